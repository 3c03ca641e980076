//! Summary statistics of timing samples: median and minimum of one metric, geometric means
//! of ratios.

use serde::Serialize;

/// Repeated measurements of one metric, in seconds (or bytes, for sizes), with their median
/// and minimum.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stat {
    /// The median sample: for an even count, the mean of the two middle ones.
    pub median: f64,
    /// The smallest sample: the least disturbed by other work on the machine.
    pub min: f64,
    /// Every sample, in the order measured.
    pub samples: Vec<f64>,
}

impl Stat {
    /// Summarises `samples`; `None` when there are none.
    pub fn of(samples: Vec<f64>) -> Option<Stat> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Stat {
            median,
            min: sorted[0],
            samples,
        })
    }
}

/// The geometric mean of `values`, ignoring any that are not finite and positive; `None`
/// when none are left.
pub fn geomean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((0.0, 0u32), |(s, n), v| (s + v.ln(), n + 1));
    (n > 0).then(|| (sum / f64::from(n)).exp())
}

/// `a / b` when both exist and `b` is not zero.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => Some(a / b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        let s = Stat::of(vec![3.0, 1.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min), (2.0, 1.0));
        assert_eq!(s.samples, [3.0, 1.0, 2.0]);
        let s = Stat::of(vec![4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!((s.median, s.min), (2.5, 1.0));
        assert!(Stat::of(Vec::new()).is_none());
    }

    #[test]
    fn geomean_skips_missing_values() {
        let g = geomean([2.0, 8.0, f64::NAN, 0.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
        assert!(geomean([]).is_none());
        assert_eq!(ratio(Some(1.0), Some(0.0)), None);
        assert_eq!(ratio(Some(1.0), Some(4.0)), Some(0.25));
    }
}
