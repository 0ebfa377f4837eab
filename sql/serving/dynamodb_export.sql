-- The scheduled DynamoDB export's objects the provider has no resource for (infra/serving/export.py runs
-- them through snowflake.Execute), and the child task's statement.

-- name: create_integration
-- Snowflake assumes the role through this integration; DESCRIBE reports the IAM user and external id the
-- role's trust policy names (the role ARN is built from its name, so the integration needs no role first).
CREATE SECURITY INTEGRATION {{ integration }}
  TYPE = API_AUTHENTICATION
  AUTH_TYPE = AWS_IAM
  AWS_ROLE_ARN = '{{ role_arn }}'
  ENABLED = TRUE
  COMMENT = 'the scheduled DynamoDB export assumes this role';

-- name: drop_integration
DROP SECURITY INTEGRATION IF EXISTS {{ integration }};

-- name: describe_integration
DESCRIBE SECURITY INTEGRATION {{ integration }};

-- name: create_secret
-- The temporary credentials of the assumed role, read by the procedure as `cred`.
CREATE SECRET {{ secret }}
  TYPE = CLOUD_PROVIDER_TOKEN
  API_AUTHENTICATION = '{{ integration }}'
  ENABLED = TRUE
  COMMENT = 'AWS credentials of the scheduled DynamoDB export';

-- name: drop_secret
DROP SECRET IF EXISTS {{ secret }};

-- name: call
CALL {{ procedure }}('{{ source }}', '{{ table }}', '{{ region }}');
