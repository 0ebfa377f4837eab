-- The `generate` step on a deployed stack: the GENERATE_* UDTFs fill the Bronze tables inside
-- Snowflake (the local path runs the same handler file in Python; fakesnow has no Python UDTFs).
-- Each table is replaced whole, so a re-run with the same seed and AS_OF yields the same rows; the
-- step runs these statements in one transaction, so readers never see a table emptied.
DELETE FROM {{ stores }};
INSERT INTO {{ stores }} SELECT s.* FROM TABLE(GENERATOR(ROWCOUNT => {{ n_stores }})) g,
  TABLE({{ gen_store }}(SEQ4()::NUMBER)) s;
DELETE FROM {{ products }};
INSERT INTO {{ products }} SELECT p.* FROM TABLE(GENERATOR(ROWCOUNT => {{ n_products }})) g,
  TABLE({{ gen_product }}(SEQ4()::NUMBER)) p;
DELETE FROM {{ inventory }};
INSERT INTO {{ inventory }} SELECT i.*, '{{ as_of }}'::TIMESTAMP_NTZ AS LAST_UPDATED FROM {{ products }} p,
  TABLE({{ gen_inventory }}(p.PRODUCT_ID, {{ seed }}::NUMBER)) i;
DELETE FROM {{ customers }};
INSERT INTO {{ customers }} SELECT c.* FROM TABLE(GENERATOR(ROWCOUNT => {{ n_customers }})) g,
  TABLE({{ gen_customer }}((SEQ4() + {{ seed }} * 10000000)::NUMBER, '{{ as_of }}'::DATE)) c;
DELETE FROM {{ events }};
INSERT INTO {{ events }} SELECT e.* FROM {{ customers }} c,
  TABLE({{ gen_events }}(c.CUSTOMER_ID, c.HAS_APP, c.ZIP_CODE, c.LOYALTY_TIER, {{ n_products }}, {{ seed }}::NUMBER,
    '{{ as_of }}'::DATE)) e;
