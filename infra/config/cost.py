"""The stack-wide cost settings (`cost` in Pulumi.<stack>.yaml): what a credit costs, how much a
warehouse runs, the volumes the usage-priced services see, and the monthly budget the policy pack
enforces. The cost model (infra/cost.py) only reads plans, so none of this changes a resource."""

from __future__ import annotations

from pydantic import Field, model_validator

from infra.config.base import ConfigModel


class UsageConfig(ConfigModel):
    """Monthly volumes of the usage-priced services: there is no cap to price them at, so both ends
    of the range use these (say what you plan for, not the free tier)."""

    landing_gb: float = Field(default=5.0, ge=0)  # GB landed per month: S3 storage, Snowpipe
    landing_files: int = Field(default=1_000, ge=0)  # files landed per month: S3 PUT and GET
    dynamodb_writes: int = Field(default=1_500_000, ge=0)  # write request units per month
    dynamodb_reads: int = Field(default=1_000_000, ge=0)  # read request units per month
    alerts: int = Field(default=100, ge=0)  # SNS publishes per month (pipe and task errors)
    secret_calls: int = Field(default=10_000, ge=0)  # Secrets Manager API calls per secret per month


class CostConfig(ConfigModel):
    """Estimate inputs. `monthlyBudget` is in USD; without it the budget rule has nothing to enforce."""

    credit_price: float = Field(default=3.0, gt=0, le=100)  # USD per credit: Enterprise, on demand
    monthly_budget: float | None = Field(default=None, gt=0)
    # the part of monthlyBudget that is AWS: the account stack's AWS budget for the stack (the rest is Snowflake)
    aws_monthly_budget: float | None = Field(default=None, gt=0)
    # share of the month a warehouse runs for queries beyond its schedules (loads, dashboard, API)
    warehouse_active_share: float = Field(default=0.05, ge=0, le=1)
    # how long one scheduled run keeps its warehouse busy (Snowflake bills at least 60 s per resume)
    run_seconds: int = Field(default=60, ge=1, le=86_400)
    # credits/hour per Snowflake Postgres compute family: overrides the rates file's placeholders
    postgres_credits_per_hour: dict[str, float] = Field(default_factory=dict)
    usage: UsageConfig = Field(default_factory=UsageConfig)

    @model_validator(mode="after")
    def _aws_share(self) -> CostConfig:
        if self.aws_monthly_budget is not None and not (self.monthly_budget or 0) > self.aws_monthly_budget:
            raise ValueError(
                f"awsMonthlyBudget {self.aws_monthly_budget:g} must be below monthlyBudget {self.monthly_budget}"
                " (the rest is the Snowflake budget)"
            )
        return self
