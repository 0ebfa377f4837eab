-- The monitor's reads of one feed's pipe (python -m scripts.monitor), filled once per feed.

-- name: stack_pipe
SELECT SYSTEM$PIPE_STATUS('{{ pipe }}') AS STATUS;

-- name: local_pipe
-- On the stand-in: the local pipe's last load (it has no pipe state to report).
SELECT FILE_NAME, STATUS, LOADED_AT FROM {{ load_history }} ORDER BY LOADED_AT DESC LIMIT 1;
