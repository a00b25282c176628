//! The article's services config read from JSON, with the line of every entry, so that a data
//! tool's error names the line of the service at fault.

use std::collections::HashMap;

use serde_json::value::RawValue;

use crate::error::{CoreError, Result};
use crate::service::ServiceSpec;
use crate::webhook::{offset_in, relocated, strip_bom};

/// The services config (`[{"name", "type", "criticality", "dependencies"}, ..]`), each entry
/// with the 1-based line its object starts on.
///
/// ```
/// use aiops_core::ServicesConfig;
///
/// let text = "[{\"name\": \"db\"},\n {\"name\": \"api\", \"dependencies\": [\"db\"]}]";
/// let cfg = ServicesConfig::from_json(text)?;
/// assert_eq!(cfg.specs().len(), 2);
/// assert_eq!(cfg.line_of("api"), Some(2));
/// let twice = "[{\"name\": \"db\"},\n {\"name\": \"db\"}]";
/// assert_eq!(
///     ServicesConfig::from_json(twice).unwrap_err().to_string(),
///     "service entry 1 (line 2): \"db\" is defined twice (first on line 1)"
/// );
/// # Ok::<(), aiops_core::CoreError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ServicesConfig {
    specs: Vec<ServiceSpec>,
    lines: Vec<usize>,
    /// Per name, its entry (a linear search per entry was quadratic in the number of entries).
    index: HashMap<String, usize>,
}

impl ServicesConfig {
    /// Reads a JSON array of services-config objects (a leading byte-order mark is skipped).
    /// An entry that cannot be read, and a name defined twice, are
    /// [`CoreError::InvalidServiceEntry`] naming the entry and its line; JSON that is not an
    /// array is [`CoreError::Json`] with the line and column.
    pub fn from_json(text: &str) -> Result<Self> {
        let text = strip_bom(text);
        let items: Vec<&RawValue> = serde_json::from_str(text).map_err(|e| {
            CoreError::Json(format!("expected an array of services-config objects: {e}"))
        })?;
        let mut specs: Vec<ServiceSpec> = Vec::with_capacity(items.len());
        let mut lines = Vec::with_capacity(items.len());
        let mut index: HashMap<String, usize> = HashMap::with_capacity(items.len());
        // Lines are counted on from the previous entry (the entries come in file order):
        // counting from the start for each entry was quadratic (a one-line file of 20,000
        // services took 15 s).
        let (mut counted, mut line) = (0, 1);
        for (entry, item) in items.into_iter().enumerate() {
            let offset = offset_in(text, item.get()).max(counted);
            line += text
                .get(counted..offset)
                .map_or(0, |t| t.matches('\n').count());
            counted = offset;
            let spec: ServiceSpec =
                serde_json::from_str(item.get()).map_err(|e| CoreError::InvalidServiceEntry {
                    entry,
                    line,
                    reason: relocated(text, item.get(), &e),
                })?;
            if let Some(&k) = index.get(spec.name()) {
                return Err(CoreError::InvalidServiceEntry {
                    entry,
                    line,
                    reason: format!(
                        "{:?} is defined twice (first on line {})",
                        spec.name(),
                        lines[k]
                    ),
                });
            }
            index.insert(spec.name().to_owned(), specs.len());
            specs.push(spec);
            lines.push(line);
        }
        Ok(ServicesConfig {
            specs,
            lines,
            index,
        })
    }

    /// The services, in file order.
    pub fn specs(&self) -> &[ServiceSpec] {
        &self.specs
    }

    /// The services, in file order.
    pub fn into_specs(self) -> Vec<ServiceSpec> {
        self.specs
    }

    /// The line on which the entry of service `name` starts.
    pub fn line_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).map(|&i| self.lines[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_entry_and_its_line() {
        let e = ServicesConfig::from_json(
            "[{\"name\": \"db\"},\n\n {\"name\": \"api\", \"dependencies\": [\"api\"]}]",
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                CoreError::InvalidServiceEntry {
                    entry: 1,
                    line: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("depends on itself"), "{e}");
        let e = ServicesConfig::from_json(
            "[{\"name\": \"a\"}, {\"name\": \"b\", \"dependencies\": [\"a\", {\"name\": \"a\"}]}]",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .ends_with("invalid service \"b\": dependency \"a\" listed twice"),
            "{e}"
        );
        // A bad weight names the entry that has it, not the service it depends on.
        let e = ServicesConfig::from_json(
            "[{\"name\": \"a\"},\n{\"name\": \"b\", \"dependencies\": [{\"name\": \"a\", \"weight\": -1}]}]",
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with(
                "service entry 1 (line 2): invalid service \"b\": the weight of its dependency \"a\" must be finite and > 0, got -1"
            ),
            "{e}"
        );
        let e = ServicesConfig::from_json("[{\"name\": \"db\"},\n {\"type\": \"database\"}]")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("service entry 1 (line 2): missing field `name`"),
            "{e}"
        );
        for bad in ["{\"name\": \"db\"}", "[[\"db\"]]", "", "[{\"name\": 1}]"] {
            assert!(ServicesConfig::from_json(bad).is_err(), "{bad}");
        }
        // Lines are counted on from entry to entry: several entries on one line, blank lines
        // and CRLF endings between them.
        let cfg = ServicesConfig::from_json(
            "[{\"name\": \"a\"}, {\"name\": \"b\"},\r\n\r\n{\"name\":\n \"c\"},\n{\"name\": \"d\"}]",
        )
        .unwrap();
        let lines: Vec<Option<usize>> = ["a", "b", "c", "d"].map(|n| cfg.line_of(n)).to_vec();
        assert_eq!(lines, [Some(1), Some(1), Some(3), Some(5)]);
        let cfg = ServicesConfig::from_json("\u{feff}[]").unwrap();
        assert!(cfg.specs().is_empty() && cfg.line_of("db").is_none());
    }
}
