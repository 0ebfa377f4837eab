-- The stream and the task's bookkeeping on fakesnow, which has no streams: the stream is the set of
-- Bronze rows whose consumption has not committed; a batch is claimed, staged, merged, then committed.
-- `claimed` is the newest batch: a run first drops dead claims, then claims MAX + 1.

-- name: create_consumed
CREATE TABLE IF NOT EXISTS {{ consumed }} (
    BATCH_ID NUMBER(38,0), _FILE_NAME VARCHAR, _FILE_ROW_NUMBER NUMBER(38,0), COMMITTED BOOLEAN
);

-- name: unconsumed
(SELECT b.* FROM {{ bronze }} b
 WHERE NOT EXISTS (SELECT 1 FROM {{ consumed }} c
                   WHERE c.COMMITTED AND c._FILE_NAME = b._FILE_NAME AND c._FILE_ROW_NUMBER = b._FILE_ROW_NUMBER))

-- name: drop_dead_claims
DELETE FROM {{ consumed }} WHERE NOT COMMITTED;

-- name: next_batch
SELECT COALESCE(MAX(BATCH_ID), 0) + 1 FROM {{ consumed }};

-- name: claimed
(SELECT b.* FROM {{ bronze }} b
 JOIN {{ consumed }} c ON c._FILE_NAME = b._FILE_NAME AND c._FILE_ROW_NUMBER = b._FILE_ROW_NUMBER
 WHERE c.BATCH_ID = (SELECT MAX(BATCH_ID) FROM {{ consumed }}))

-- name: commit_batch
UPDATE {{ consumed }} SET COMMITTED = TRUE WHERE BATCH_ID = %s;

-- name: claim
INSERT INTO {{ consumed }} (BATCH_ID, _FILE_NAME, _FILE_ROW_NUMBER, COMMITTED)
SELECT %s, b._FILE_NAME, b._FILE_ROW_NUMBER, FALSE FROM {{ bronze }} b
WHERE NOT EXISTS (SELECT 1 FROM {{ consumed }} c
                  WHERE c.COMMITTED AND c._FILE_NAME = b._FILE_NAME AND c._FILE_ROW_NUMBER = b._FILE_ROW_NUMBER);
