-- The per-product signals of the ranking model's taste features (services/features/taste.py): views by
-- everyone over 365 days and the repeat rate of the product's category. No default: the rows live
-- before the next sync's swap have them NULL, which the API reads as unknown (the taste features
-- missing) rather than as a zero it would score; the sync always fills them.
ALTER TABLE {{ schema }}.product_popularity
  ADD COLUMN IF NOT EXISTS views_365d INT,
  ADD COLUMN IF NOT EXISTS repeat_rate DOUBLE PRECISION;
