"""Stack configuration: the typed model (`models`) and the one reader (`reader`)."""

from infra.config.base import target_lag
from infra.config.cdc import CdcConfig, CdcGenerator, CdcLags, CdcMix
from infra.config.dashboard import DashboardConfig
from infra.config.models import (
    PROJECT,
    WAREHOUSE_SIZES,
    AnalyticsConfig,
    AnalyticsScale,
    DynamoDbConfig,
    IngestionConfig,
    PostgresConfig,
    RecommendationsConfig,
    ResourceMonitorConfig,
    ScaleConfig,
    ServiceSizing,
    SnowflakeConnection,
    SpcsConfig,
    StackConfig,
    Warehouses,
    warehouse_size_rank,
)
from infra.config.reader import (
    SECRET_KEYS,
    SECRET_MARK,
    ConfigError,
    load_stack_config,
    parse_config,
    read_stack_file,
    stack_config,
)

__all__ = [
    "PROJECT",
    "SECRET_KEYS",
    "SECRET_MARK",
    "WAREHOUSE_SIZES",
    "AnalyticsConfig",
    "AnalyticsScale",
    "CdcConfig",
    "CdcGenerator",
    "CdcLags",
    "CdcMix",
    "ConfigError",
    "DashboardConfig",
    "DynamoDbConfig",
    "IngestionConfig",
    "PostgresConfig",
    "RecommendationsConfig",
    "ResourceMonitorConfig",
    "ScaleConfig",
    "ServiceSizing",
    "SnowflakeConnection",
    "SpcsConfig",
    "StackConfig",
    "Warehouses",
    "load_stack_config",
    "parse_config",
    "read_stack_file",
    "stack_config",
    "target_lag",
    "warehouse_size_rank",
]
