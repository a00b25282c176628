//! Services and their dependencies: the article's services config.

use std::fmt;
use std::str::FromStr;

use crate::error::{CoreError, Result};

/// What kind of thing a service is; drives recommendations and healing rules.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum ServiceKind {
    /// An application or API service.
    #[default]
    Application,
    /// A database.
    Database,
    /// Network equipment or a network service (load balancer, DNS, gateway).
    Network,
    /// A cache (Redis, memcached).
    Cache,
    /// A queue or log (`Kafka`, `RabbitMQ`).
    Queue,
    /// A host, VM or node.
    Host,
    /// Anything else, by name.
    Other(String),
}

impl ServiceKind {
    /// The canonical lower-case name (`Other` keeps its own).
    pub fn as_str(&self) -> &str {
        match self {
            ServiceKind::Application => "application",
            ServiceKind::Database => "database",
            ServiceKind::Network => "network",
            ServiceKind::Cache => "cache",
            ServiceKind::Queue => "queue",
            ServiceKind::Host => "host",
            ServiceKind::Other(s) => s,
        }
    }

    /// Reads a kind; common synonyms map to the built-in kinds, anything else is `Other`.
    pub fn parse(s: &str) -> ServiceKind {
        match s.trim().to_ascii_lowercase().as_str() {
            "application" | "app" | "service" | "api" | "frontend" | "backend" | "web" => {
                ServiceKind::Application
            }
            "database" | "db" | "sql" | "datastore" => ServiceKind::Database,
            "network" | "net" | "lb" | "loadbalancer" | "load_balancer" | "dns" | "gateway" => {
                ServiceKind::Network
            }
            "cache" | "redis" | "memcached" => ServiceKind::Cache,
            "queue" | "mq" | "kafka" | "broker" | "messaging" => ServiceKind::Queue,
            "host" | "node" | "vm" | "machine" | "server" => ServiceKind::Host,
            _ => ServiceKind::Other(s.trim().to_owned()),
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How much the business cares about a service (the article's `criticality`, default medium).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum Criticality {
    /// Low.
    Low,
    /// Medium (default).
    #[default]
    Medium,
    /// High.
    High,
}

impl Criticality {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Criticality::Low => "low",
            Criticality::Medium => "medium",
            Criticality::High => "high",
        }
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Criticality {
    type Err = CoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Criticality::Low),
            "medium" | "med" | "normal" => Ok(Criticality::Medium),
            "high" | "critical" => Ok(Criticality::High),
            _ => Err(CoreError::UnknownCriticality(s.to_owned())),
        }
    }
}

/// A service this one depends on (calls or uses), with a weight (default 1.0).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    name: String,
    weight: f64,
}

impl Dependency {
    /// A dependency with weight 1.0.
    pub fn new(name: impl Into<String>) -> Self {
        Dependency {
            name: name.into(),
            weight: 1.0,
        }
    }

    /// A dependency with an explicit weight, which must be finite and positive.
    pub fn with_weight(name: impl Into<String>, weight: f64) -> Result<Self> {
        let name = name.into();
        if !(weight.is_finite() && weight > 0.0) {
            return Err(CoreError::InvalidService {
                name,
                reason: format!("dependency weight must be finite and > 0, got {weight}"),
            });
        }
        Ok(Dependency { name, weight })
    }

    /// The name of the service depended on.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The weight of the dependency edge.
    pub fn weight(&self) -> f64 {
        self.weight
    }
}

/// One service of the topology: the article's services-config entry.
///
/// ```
/// use aiops_core::{Criticality, Dependency, ServiceKind, ServiceSpec};
///
/// let orders = ServiceSpec::try_new("orders", ServiceKind::Application)?
///     .with_criticality(Criticality::High)
///     .depends_on(Dependency::new("orders-db"))?;
/// assert_eq!(orders.dependencies()[0].name(), "orders-db");
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    name: String,
    kind: ServiceKind,
    criticality: Criticality,
    dependencies: Vec<Dependency>,
}

impl ServiceSpec {
    /// A service with no dependencies and medium criticality. The name must be non-empty.
    pub fn try_new(name: impl Into<String>, kind: ServiceKind) -> Result<Self> {
        let name = name.into();
        if name.trim().is_empty() {
            return Err(CoreError::InvalidService {
                name,
                reason: "empty service name".into(),
            });
        }
        Ok(ServiceSpec {
            name,
            kind,
            criticality: Criticality::Medium,
            dependencies: Vec::new(),
        })
    }

    /// Sets the criticality.
    #[must_use]
    pub fn with_criticality(mut self, criticality: Criticality) -> Self {
        self.criticality = criticality;
        self
    }

    /// Adds a dependency; a self-dependency or a repeated dependency is an error.
    pub fn depends_on(mut self, dep: Dependency) -> Result<Self> {
        self.check_dependency(&dep)?;
        if self.dependencies.iter().any(|d| d.name == dep.name) {
            return Err(self.listed_twice(&dep));
        }
        self.dependencies.push(dep);
        Ok(self)
    }

    /// A dependency on itself or with an empty name is an error (repeats are checked apart).
    fn check_dependency(&self, dep: &Dependency) -> Result<()> {
        let reason = if dep.name == self.name {
            "depends on itself"
        } else if dep.name.trim().is_empty() {
            "dependency with an empty name"
        } else {
            return Ok(());
        };
        Err(CoreError::InvalidService {
            name: self.name.clone(),
            reason: reason.into(),
        })
    }

    fn listed_twice(&self, dep: &Dependency) -> CoreError {
        CoreError::InvalidService {
            name: self.name.clone(),
            reason: format!("dependency {:?} listed twice", dep.name),
        }
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The kind of service.
    pub fn kind(&self) -> &ServiceKind {
        &self.kind
    }

    /// How critical it is.
    pub fn criticality(&self) -> Criticality {
        self.criticality
    }

    /// The services this one calls or uses.
    pub fn dependencies(&self) -> &[Dependency] {
        &self.dependencies
    }
}

#[cfg(feature = "serde")]
mod serde_impl {
    use super::{Criticality, Dependency, ServiceKind, ServiceSpec};
    use crate::error::CoreError;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    impl Serialize for ServiceKind {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }
    impl<'de> Deserialize<'de> for ServiceKind {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Ok(ServiceKind::parse(&String::deserialize(d)?))
        }
    }
    impl Serialize for Criticality {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(self.as_str())
        }
    }
    impl<'de> Deserialize<'de> for Criticality {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            String::deserialize(d)?
                .parse()
                .map_err(serde::de::Error::custom)
        }
    }

    /// A dependency as written: a name, or an object with `name` and an optional `weight`.
    /// (An untagged enum said only "data did not match any variant of untagged enum `WireDep`",
    /// for a weight that is not a number as for a dependency that is not a name.)
    enum WireDep {
        Name(String),
        Full { name: String, weight: f64 },
    }

    #[derive(Deserialize)]
    struct FullDep {
        name: String,
        #[serde(default = "one")]
        weight: f64,
    }

    fn one() -> f64 {
        1.0
    }

    impl<'de> Deserialize<'de> for WireDep {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Dep;
            impl<'de> serde::de::Visitor<'de> for Dep {
                type Value = WireDep;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(
                        "a dependency: a service name, or an object with \"name\" and an \
                         optional \"weight\"",
                    )
                }
                fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<WireDep, E> {
                    Ok(WireDep::Name(v.to_owned()))
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    map: A,
                ) -> Result<WireDep, A::Error> {
                    let FullDep { name, weight } =
                        FullDep::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                    Ok(WireDep::Full { name, weight })
                }
            }
            d.deserialize_any(Dep)
        }
    }

    #[derive(Serialize)]
    struct WireDepOut<'a> {
        name: &'a str,
        weight: f64,
    }

    #[derive(Deserialize)]
    struct WireSpec {
        name: String,
        #[serde(rename = "type", alias = "kind", default)]
        kind: Option<ServiceKind>,
        #[serde(default)]
        criticality: Option<Criticality>,
        #[serde(default)]
        dependencies: Vec<WireDep>,
    }

    impl Serialize for Dependency {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.weight == 1.0 {
                s.serialize_str(&self.name)
            } else {
                WireDepOut {
                    name: &self.name,
                    weight: self.weight,
                }
                .serialize(s)
            }
        }
    }

    impl Serialize for ServiceSpec {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeStruct;
            let mut st = s.serialize_struct("ServiceSpec", 4)?;
            st.serialize_field("name", &self.name)?;
            st.serialize_field("type", &self.kind)?;
            st.serialize_field("criticality", &self.criticality)?;
            st.serialize_field("dependencies", &self.dependencies)?;
            st.end()
        }
    }

    impl<'de> Deserialize<'de> for ServiceSpec {
        /// The article's services-config entry: `name`, `type` (or `kind`), optional
        /// `criticality`, and `dependencies` as plain names or `{"name", "weight"}` objects.
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let w: WireSpec = crate::wire::from_map(d, "a services-config entry")?;
            let mut spec = ServiceSpec::try_new(w.name, w.kind.unwrap_or_default())
                .map_err(serde::de::Error::custom)?
                .with_criticality(w.criticality.unwrap_or_default());
            let mut seen = std::collections::HashSet::new();
            for dep in w.dependencies {
                let dep = match dep {
                    WireDep::Name(n) => Dependency::new(n),
                    WireDep::Full { name, weight } => {
                        // Named for the entry at fault, not for the service depended on.
                        Dependency::with_weight(name.clone(), weight).map_err(|_| {
                            serde::de::Error::custom(CoreError::InvalidService {
                                name: spec.name().to_owned(),
                                reason: format!(
                                    "the weight of its dependency {name:?} must be finite and > 0, got {weight}"
                                ),
                            })
                        })?
                    }
                };
                // Repeats found by a set: `depends_on` scans the list, quadratic in an
                // entry's dependencies (160,000 took 29 s).
                if !seen.insert(dep.name.clone()) {
                    return Err(serde::de::Error::custom(spec.listed_twice(&dep)));
                }
                spec.check_dependency(&dep)
                    .map_err(serde::de::Error::custom)?;
                spec.dependencies.push(dep);
            }
            Ok(spec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(ServiceSpec::try_new(" ", ServiceKind::Host).is_err());
        let s = ServiceSpec::try_new("a", ServiceKind::Host).unwrap();
        assert!(s.clone().depends_on(Dependency::new("a")).is_err());
        let s = s.depends_on(Dependency::new("b")).unwrap();
        assert!(s.clone().depends_on(Dependency::new("b")).is_err());
        assert!(Dependency::with_weight("x", f64::NAN).is_err());
        assert!(Dependency::with_weight("x", 0.0).is_err());
        assert_eq!(s.criticality(), Criticality::Medium);
    }

    #[test]
    fn kinds_parse_leniently() {
        assert_eq!(ServiceKind::parse("DB"), ServiceKind::Database);
        assert_eq!(ServiceKind::parse("redis"), ServiceKind::Cache);
        assert_eq!(
            ServiceKind::parse("mainframe"),
            ServiceKind::Other("mainframe".into())
        );
        assert_eq!("HIGH".parse::<Criticality>().unwrap(), Criticality::High);
        assert!("urgent".parse::<Criticality>().is_err());
    }

    #[cfg(feature = "serde")]
    #[test]
    fn reads_the_articles_services_config() {
        let json = r#"[{"name": "orders", "type": "application", "criticality": "high",
                        "dependencies": ["orders-db", {"name": "cache", "weight": 0.5}]},
                       {"name": "orders-db", "type": "database"},
                       {"name": "cache", "type": "cache", "extra": 1}]"#;
        let specs: Vec<ServiceSpec> = serde_json::from_str(json).unwrap();
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[0].criticality(), Criticality::High);
        assert_eq!(specs[0].dependencies()[1].weight(), 0.5);
        assert_eq!(specs[1].kind(), &ServiceKind::Database);
        assert_eq!(specs[1].criticality(), Criticality::Medium);
        let back: Vec<ServiceSpec> =
            serde_json::from_str(&serde_json::to_string(&specs).unwrap()).unwrap();
        assert_eq!(back, specs);
        // A dependency that is neither a name nor a name with a weight says so, and a weight
        // that is no number is named by its position (both were "data did not match any
        // variant of untagged enum WireDep").
        for (bad, want) in [
            (
                r#"[{"name": "a", "dependencies": [1]}]"#,
                "expected a dependency: a service name, or an object with \"name\"",
            ),
            (
                r#"[{"name": "a", "dependencies": [{"weight": 2}]}]"#,
                "missing field `name`",
            ),
            (
                r#"[{"name": "a", "dependencies": [{"name": "b", "weight": "x"}]}]"#,
                "invalid type: string \"x\", expected f64 at line 1 column 59",
            ),
        ] {
            let err = serde_json::from_str::<Vec<ServiceSpec>>(bad)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want) && !err.contains("untagged"), "{err}");
        }
        let bad = r#"[{"name": "a", "dependencies": [{"name": "b", "weight": -1}]}]"#;
        let err = serde_json::from_str::<Vec<ServiceSpec>>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains("weight"), "{err}");
    }
}
