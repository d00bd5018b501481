//! A small real data set for the zkML demo: Fisher's Iris flowers, compiled in.
//!
//! `data/iris.csv` is the UCI Machine Learning Repository file
//! (<https://archive.ics.uci.edu/dataset/53/iris>, R. A. Fisher 1936) with a header and comment
//! lines naming its source: 150 samples of four measurements in centimetres with one decimal, 50
//! of each of three species. The tree and its Miden program compare integers, so the loader
//! turns each measurement into whole millimetres by reading the decimal digits, never through a
//! float, and `5.1` is exactly `51`.

use std::collections::BTreeMap;

use crate::tree::FEATURES;

/// The Iris CSV as committed.
const IRIS_CSV: &str = include_str!("../data/iris.csv");

/// Labelled samples for training and classifying with a [`DecisionTree`](crate::tree::DecisionTree).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    /// One row per sample, in file order; each feature a non-negative integer.
    pub features: Vec<[u32; FEATURES]>,
    /// The class of each sample, an index into `class_names`.
    pub labels: Vec<u32>,
    /// Class names in order of first appearance, so the first sample's class is `0`.
    pub class_names: Vec<String>,
}

/// Why a CSV is not a [`Dataset`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct CsvError {
    /// The offending line, counted from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Fisher's Iris data set with measurements in millimetres; classes `0` Iris-setosa, `1`
/// Iris-versicolor, `2` Iris-virginica.
///
/// The data are compiled in, so an error here means the committed file was damaged; a unit test
/// parses it.
pub fn iris() -> Result<Dataset, CsvError> {
    Dataset::from_csv(IRIS_CSV)
}

impl Dataset {
    /// Parses CSV whose lines are blank, `#` comments, one header with `FEATURES + 1` columns,
    /// then rows of [`FEATURES`] decimal measurements (at most one digit after the point) and a
    /// class name. Measurements are scaled by ten, so they are integers in tenths of the
    /// file's unit.
    pub fn from_csv(text: &str) -> Result<Self, CsvError> {
        let mut data = Dataset {
            features: Vec::new(),
            labels: Vec::new(),
            class_names: Vec::new(),
        };
        let mut classes = BTreeMap::new();
        let mut header_seen = false;
        for (i, raw) in text.lines().enumerate() {
            let err = |reason: String| CsvError {
                line: i + 1,
                reason,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != FEATURES + 1 {
                return Err(err(format!(
                    "{} columns, expected {}",
                    fields.len(),
                    FEATURES + 1
                )));
            }
            if !header_seen {
                header_seen = true;
                continue;
            }
            let mut row = [0u32; FEATURES];
            for (slot, field) in row.iter_mut().zip(&fields) {
                *slot = tenths(field).map_err(|reason| err(format!("{field:?}: {reason}")))?;
            }
            let name = fields.get(FEATURES).copied().unwrap_or_default();
            if name.is_empty() {
                return Err(err("empty class name".into()));
            }
            let next = u32::try_from(data.class_names.len())
                .map_err(|_| err("too many classes".into()))?;
            let label = *classes.entry(name.to_owned()).or_insert_with(|| {
                data.class_names.push(name.to_owned());
                next
            });
            data.features.push(row);
            data.labels.push(label);
        }
        if data.features.is_empty() {
            return Err(CsvError {
                line: text.lines().count(),
                reason: "no samples".into(),
            });
        }
        Ok(data)
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.features.len()
    }

    /// Whether there are no samples; never true for a parsed data set.
    pub fn is_empty(&self) -> bool {
        self.features.is_empty()
    }
}

/// `"5.1"` → `51`, `"3"` → `30`: a non-negative decimal with at most one fractional digit,
/// times ten, exactly.
fn tenths(field: &str) -> Result<u32, String> {
    let (whole, frac) = field.split_once('.').unwrap_or((field, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) {
        return Err("not a non-negative decimal".into());
    }
    if frac.len() > 1 {
        return Err("more than one decimal, not exact in tenths".into());
    }
    let whole: u32 = whole.parse().map_err(|_| "too large".to_string())?;
    let frac: u32 = frac.parse().map_err(|_| "too large".to_string())?;
    whole
        .checked_mul(10)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| "too large".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iris_parses_to_150_samples_of_three_balanced_classes() {
        let d = iris().unwrap();
        assert_eq!(d.len(), 150);
        assert_eq!(d.labels.len(), 150);
        assert_eq!(
            d.class_names,
            ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]
        );
        for class in 0..3 {
            assert_eq!(d.labels.iter().filter(|&&l| l == class).count(), 50);
        }
        // File order: the species are in blocks of 50.
        assert!(d.labels.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(d.features[0], [51, 35, 14, 2]);
        assert_eq!(d.features[149], [59, 30, 51, 18]);
    }

    /// The published column sums, in millimetres: means 5.843, 3.054 (UCI's file; Fisher's
    /// original has 3.057), 3.759 and 1.199 cm. A digit mistyped anywhere changes one.
    #[test]
    fn iris_matches_the_published_column_totals() {
        let d = iris().unwrap();
        let mut sums = [0u32; FEATURES];
        for row in &d.features {
            for (s, f) in sums.iter_mut().zip(row) {
                *s += f;
            }
        }
        assert_eq!(sums, [8765, 4581, 5638, 1798]);
        let max = d.features.iter().flatten().max().copied();
        let min = d.features.iter().flatten().min().copied();
        assert_eq!((min, max), (Some(1), Some(79)));
    }

    #[test]
    fn measurements_become_exact_tenths() {
        assert_eq!(tenths("5.1"), Ok(51));
        assert_eq!(tenths("0.1"), Ok(1));
        assert_eq!(tenths("3"), Ok(30));
        assert_eq!(tenths("3.0"), Ok(30));
        for bad in ["", ".5", "5.", "-1.0", "1.25", "1e3", "x", "429496730"] {
            assert!(tenths(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn malformed_csv_is_an_error_naming_the_line() {
        let head = "# c\na,b,c,d,class\n";
        let ok = Dataset::from_csv(&format!("{head}1,2,3,4,x\n0.5,2,3,4,y\n1,1,1,1,x\n")).unwrap();
        assert_eq!(
            ok.features,
            [[10, 20, 30, 40], [5, 20, 30, 40], [10, 10, 10, 10]]
        );
        assert_eq!(ok.labels, [0, 1, 0]);

        let line = |text: &str| Dataset::from_csv(text).unwrap_err().line;
        assert_eq!(line(&format!("{head}1,2,3,4,x\n1,2,3,x\n")), 4);
        assert_eq!(line(&format!("{head}1,2,3,4,x\n1,2,3,4.55,x\n")), 4);
        assert_eq!(line(&format!("{head}1,2,3,4,\n")), 3);
        assert_eq!(line(&format!("{head}1,2,3,4,x,5\n")), 3);
        assert!(Dataset::from_csv(head).is_err());
        assert!(Dataset::from_csv("").is_err());
    }
}
