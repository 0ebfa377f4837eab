-- The budget's monthly limit in credits, what it tracks (every object that carries the environment's tag
-- with the value {{ value }}, and what such a database contains) and who is mailed. Each method replaces
-- what it sets, so running the block again is safe. For the budget created as {{ budget_id }}: a new
-- budget gets its settings again.
EXECUTE IMMEDIATE $$
BEGIN
  CALL {{ budget }}!SET_SPENDING_LIMIT({{ credits }});
  CALL {{ budget }}!SET_RESOURCE_TAGS(
    ARRAY_CONSTRUCT(ARRAY_CONSTRUCT(SYSTEM$REFERENCE('TAG', '{{ tag }}', 'SESSION', 'APPLYBUDGET'), '{{ value }}')),
    'UNION');
  CALL {{ budget }}!SET_EMAIL_NOTIFICATIONS('{{ emails }}');
  RETURN 'budget set: {{ credits }} credits';
END;
$$
