#![doc = include_str!("../README.md")]

mod config;
mod error;
mod fallback;
mod holidays;
mod model;
mod optimizer;
mod predictor;
mod prophet_model;

pub use config::{ForecastConfig, Growth, ModelKind};
pub use error::{ForecastError, Result};
pub use holidays::{Country, Holiday};
pub use model::{FittedModel, ForecastRow, MIN_POINTS, MIN_PROPHET_POINTS};
pub use optimizer::{FitStats, MapOptimizer};
pub use predictor::{CapacityPredictor, CapacityRisk, RiskAssessment, RiskLevel, Threshold};
