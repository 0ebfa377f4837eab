-- The per-product signals of the ranking model's taste features (services/features/taste.py): views by
-- everyone over 365 days and the repeat rate of the product's category. Defaults keep the rows a
-- previous sync loaded valid until the next sync fills them.
ALTER TABLE {{ schema }}.product_popularity
  ADD COLUMN IF NOT EXISTS views_365d INT NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS repeat_rate DOUBLE PRECISION NOT NULL DEFAULT 0;
