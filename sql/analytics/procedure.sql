-- {{ name }}: {{ purpose }}
-- One transaction: every stream it reads advances only when all of its statements commit, and all
-- of them see the same change set (a stream read inside a transaction is repeatable).
BEGIN
  BEGIN TRANSACTION;
{{ statements }}
  COMMIT;
  RETURN '{{ name }}: done';
EXCEPTION
  WHEN OTHER THEN
    ROLLBACK;
    RAISE;
END
