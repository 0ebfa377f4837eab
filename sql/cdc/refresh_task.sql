-- The refresh task's statement: a documented manual refresh of the top table, which refreshes the
-- dynamic tables it reads first.
ALTER DYNAMIC TABLE {{ table }} REFRESH
