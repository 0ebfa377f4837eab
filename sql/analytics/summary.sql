-- DAILY_SALES_SUMMARY from FACT_SALES in one transaction: the days of the facts loaded (or changed)
-- since the last run, as FACT_SALES_STREAM shows them, are rebuilt whole from FACT_SALES; consuming the
-- stream in the same transaction is what makes the next run start where this one ended (the task
-- design: infra/analytics/tasks.py). Revenue is net of discounts and excludes cancelled orders; AOV is
-- revenue per (non-cancelled) order, not per order line; margin is profit / revenue (not a markup on cost).

-- name: clear_dates
DELETE FROM {{ dates }};

-- name: changed_dates
INSERT INTO {{ dates }} (DATE_KEY) SELECT DISTINCT DATE_KEY FROM {{ facts_stream }};

-- name: clear
DELETE FROM {{ summary }} WHERE DATE_KEY IN (SELECT DATE_KEY FROM {{ dates }});

-- name: rebuild
INSERT INTO {{ summary }} (
  DATE_KEY, SALES_DATE, ORDERS, ORDER_ITEMS, UNITS, REVENUE, COST, PROFIT, MARGIN, AVG_ORDER_VALUE,
  CANCELLED_ORDERS, CANCELLED_REVENUE, CUSTOMERS, REFRESHED_AT
)
SELECT a.DATE_KEY, a.SALES_DATE, a.ORDERS, a.ORDER_ITEMS, a.UNITS, a.REVENUE, a.COST, a.REVENUE - a.COST,
       IFF(a.REVENUE = 0, NULL, ROUND((a.REVENUE - a.COST) / a.REVENUE, 6)),
       IFF(a.ORDERS = 0, NULL, ROUND(a.REVENUE / a.ORDERS, 2)),
       a.CANCELLED_ORDERS, a.CANCELLED_REVENUE, a.CUSTOMERS, CURRENT_TIMESTAMP()
FROM (
  SELECT f.DATE_KEY, d.FULL_DATE AS SALES_DATE,
         COUNT(DISTINCT IFF(f.IS_CANCELLED, NULL, f.ORDER_ID)) AS ORDERS,
         SUM(IFF(f.IS_CANCELLED, 0, 1)) AS ORDER_ITEMS,
         SUM(IFF(f.IS_CANCELLED, 0, f.QUANTITY)) AS UNITS,
         SUM(IFF(f.IS_CANCELLED, 0, f.NET_AMOUNT)) AS REVENUE,
         SUM(IFF(f.IS_CANCELLED, 0, f.COST_AMOUNT)) AS COST,
         COUNT(DISTINCT IFF(f.IS_CANCELLED, f.ORDER_ID, NULL)) AS CANCELLED_ORDERS,
         SUM(IFF(f.IS_CANCELLED, f.NET_AMOUNT, 0)) AS CANCELLED_REVENUE,
         COUNT(DISTINCT IFF(f.IS_CANCELLED, NULL, f.CUSTOMER_ID)) AS CUSTOMERS
  FROM {{ facts }} f
  JOIN {{ dim_date }} d ON d.DATE_KEY = f.DATE_KEY
  WHERE f.DATE_KEY IN (SELECT DATE_KEY FROM {{ dates }})
  GROUP BY f.DATE_KEY, d.FULL_DATE
) a;
