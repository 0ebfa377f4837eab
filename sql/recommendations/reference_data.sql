-- Reference rows of PRODUCT_CATEGORIES and LOYALTY_TIERS (seed 001). Idempotent: replaced whole.
-- tests/recommendations/test_sql.py checks these rows equal the generators' CATEGORIES/LOYALTY_TIERS.
DELETE FROM {{ categories }};
INSERT INTO {{ categories }} (CATEGORY_ID, DEPARTMENT, CATEGORY_NAME, MIN_PRICE, MAX_PRICE) VALUES
  ('CAT-001', 'Apparel', 'Womens Clothing', 25.00, 250.00),
  ('CAT-002', 'Apparel', 'Mens Clothing', 30.00, 200.00),
  ('CAT-003', 'Apparel', 'Kids Clothing', 15.00, 80.00),
  ('CAT-004', 'Footwear', 'Athletic Shoes', 60.00, 200.00),
  ('CAT-005', 'Footwear', 'Casual Shoes', 40.00, 150.00),
  ('CAT-006', 'Accessories', 'Bags & Wallets', 30.00, 400.00),
  ('CAT-007', 'Accessories', 'Jewelry', 20.00, 500.00),
  ('CAT-008', 'Home', 'Bedding', 50.00, 300.00),
  ('CAT-009', 'Home', 'Kitchen', 15.00, 200.00),
  ('CAT-010', 'Beauty', 'Skincare', 15.00, 150.00),
  ('CAT-011', 'Beauty', 'Makeup', 10.00, 80.00),
  ('CAT-012', 'Electronics', 'Audio', 30.00, 400.00);
DELETE FROM {{ tiers }};
INSERT INTO {{ tiers }} (TIER_ID, TIER_NAME, MIN_ANNUAL_SPEND, MAX_ANNUAL_SPEND, POINTS_MULTIPLIER, DISCOUNT_PCT) VALUES
  ('TIER-001', 'Bronze', 0, 499, 1.0, 0),
  ('TIER-002', 'Silver', 500, 1499, 1.25, 5),
  ('TIER-003', 'Gold', 1500, 4999, 1.5, 10),
  ('TIER-004', 'Platinum', 5000, 99999, 2.0, 15);
