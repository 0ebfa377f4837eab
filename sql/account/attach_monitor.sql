-- Attaches this environment's resource monitor to one of its own warehouses. Only ACCOUNTADMIN may
-- assign a resource monitor, so the procedure runs as its owner (the account administrator) and the
-- environment's admin role may only call it, for exactly the warehouses listed here.
DECLARE
  not_ours EXCEPTION (-20001, 'not a warehouse of this environment');
  wh VARCHAR DEFAULT UPPER(WAREHOUSE_NAME);
BEGIN
  IF (wh NOT IN ({{ warehouses }})) THEN
    RAISE not_ours;
  END IF;
  ALTER WAREHOUSE IDENTIFIER(:wh) SET RESOURCE_MONITOR = {{ monitor }};
  RETURN 'attached ' || wh || ' to {{ monitor }}';
END;
