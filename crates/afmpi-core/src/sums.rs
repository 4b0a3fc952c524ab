//! Sums of sampling weights that do not depend on the order of the additions: weights in
//! (finite, zero or more), each cell's sum of weights, of squared weights and count out.
//!
//! A floating-point sum depends on the order of its additions, so a table added up in
//! blocks, in batches of a file or on another number of threads would differ in the last
//! bits. Here every weight (and its square, rounded once as a double) is first put on a
//! fixed grid of 2^-72 — exactly for any value of 2^-20 (about 10^-6) or more, to within
//! 2^-73 below — and the grid points are added as 128-bit integers, which is exact and
//! associative. (Weights of 10^-6 and less, as weights divided by their total over
//! millions of persons, keep their sums to about 10^-16 absolute: the squares of weights
//! of 10^-8 to about 10^-6 relative.) Whatever cuts the rows into blocks, batches or threads, a cell's sum is
//! the same integer, and its value as a double (rounded once) the same bits; and closer
//! to the true sum than a running double sum, which rounds at every step.
//!
//! The grid holds values up to 2^54 (1.8 × 10^16) and sums up to 2^55; a weight whose
//! square passes 2^54 (a weight over 1.3 × 10^8), or a cell whose sums pass 2^55, is an error that says to scale the weights down (every estimate is a
//! ratio of weighted totals, and does not change).

use crate::error::{Error, Result};

/// Fraction bits of the grid.
const FRACTION_BITS: i32 = 72;
/// 2^72, the grid's unit.
const SCALE: f64 = (1u128 << FRACTION_BITS) as f64;
/// Values at or above this (2^126, as a double) are refused, so that two can be added.
const LIMIT: f64 = (1u128 << 126) as f64;

/// A weight on the grid: the integer nearest `w` × 2^72. `w` is finite, zero or more.
fn on_the_grid(w: f64) -> Option<i128> {
    let scaled = w * SCALE;
    // (`!(scaled < LIMIT)` also refuses a NaN.)
    (scaled < LIMIT).then(|| scaled.round() as i128)
}

fn of_the_grid(units: i128) -> f64 {
    units as f64 / SCALE
}

fn too_large() -> Error {
    Error::Usage(
        "the sums of sampling weights (or of their squares) in one cell of the table pass 1.8e16, the most afmpi adds exactly: divide the weight column by a power of ten (every estimate is a ratio of weighted totals and stays the same)"
            .into(),
    )
}

/// A cell's sum of weights, sum of squared weights and count of persons, exact.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeightSums {
    weight: i128,
    weight_sq: i128,
    count: u64,
}

impl WeightSums {
    /// `count` persons of weight `w` each.
    pub fn of(w: f64, count: u64) -> Result<WeightSums> {
        let one = Grid::new(w)?;
        let mut sums = WeightSums::default();
        sums.add_times(&one, count)?;
        Ok(sums)
    }

    /// Adds `count` persons of one weight.
    pub fn add_times(&mut self, w: &Grid, count: u64) -> Result<()> {
        let n = i128::from(count);
        let weight = w.weight.checked_mul(n).ok_or_else(too_large)?;
        let weight_sq = w.weight_sq.checked_mul(n).ok_or_else(too_large)?;
        self.add(&WeightSums {
            weight,
            weight_sq,
            count,
        })
    }

    /// Adds another cell's sums.
    pub fn add(&mut self, other: &WeightSums) -> Result<()> {
        self.weight = self
            .weight
            .checked_add(other.weight)
            .ok_or_else(too_large)?;
        self.weight_sq = (self.weight_sq)
            .checked_add(other.weight_sq)
            .ok_or_else(too_large)?;
        self.count += other.count;
        Ok(())
    }

    /// The sum of weights as a double (rounded once).
    pub fn weight(&self) -> f64 {
        of_the_grid(self.weight)
    }

    /// The sum of squared weights as a double (rounded once).
    pub fn weight_sq(&self) -> f64 {
        of_the_grid(self.weight_sq)
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// A sum of weights alone, and the count of its persons, exact: the sample's facts (the
/// weight read, the weight missing an indicator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WeightSum {
    units: i128,
    count: u64,
}

impl WeightSum {
    /// Adds a person of this weight.
    pub fn add(&mut self, w: &Grid) -> Result<()> {
        self.units = self.units.checked_add(w.weight).ok_or_else(too_large)?;
        self.count += 1;
        Ok(())
    }

    /// Adds `count` persons of this weight.
    pub fn add_times(&mut self, w: &Grid, count: u64) -> Result<()> {
        let units = w.weight.checked_mul(count.into()).ok_or_else(too_large)?;
        self.units = self.units.checked_add(units).ok_or_else(too_large)?;
        self.count += count;
        Ok(())
    }

    /// Adds another sum.
    pub fn absorb(&mut self, other: &WeightSum) -> Result<()> {
        self.units = self.units.checked_add(other.units).ok_or_else(too_large)?;
        self.count += other.count;
        Ok(())
    }

    /// The sum as a double (rounded once).
    pub fn weight(&self) -> f64 {
        of_the_grid(self.units)
    }

    pub fn count(&self) -> u64 {
        self.count
    }
}

/// One weight and its square on the grid, worked out once for the rows that share it
/// (the members of a household, the households of a PSU). The default is the weight 0.
#[derive(Clone, Copy, Debug, Default)]
pub struct Grid {
    bits: u64,
    weight: i128,
    weight_sq: i128,
}

impl Grid {
    pub fn new(w: f64) -> Result<Grid> {
        match (on_the_grid(w), on_the_grid(w * w)) {
            (Some(weight), Some(weight_sq)) => Ok(Grid {
                bits: w.to_bits(),
                weight,
                weight_sq,
            }),
            _ => Err(too_large()),
        }
    }

    /// This weight's grid values, or those of `w` when it differs.
    pub fn of(&mut self, w: f64) -> Result<&Grid> {
        if w.to_bits() != self.bits {
            *self = Grid::new(w)?;
        }
        Ok(self)
    }
}

/// The exact sum of these weights, as a double: what a cell's persons weigh, added in any
/// order (for the sample's facts: the weight read, the weight missing an indicator).
pub fn sum_of(weights: impl IntoIterator<Item = f64>) -> Result<f64> {
    let mut total = WeightSum::default();
    let mut grid = Grid::default();
    for w in weights {
        total.add(grid.of(w)?)?;
    }
    Ok(total.weight())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn values_of_2_to_the_minus_20_or_more_are_on_the_grid_exactly() {
        for w in [1.0, 0.1, 1.0 / 3.0, 2f64.powi(-19), 123_456.789_012, 3.0e6] {
            let g = Grid::new(w).unwrap();
            assert_eq!(of_the_grid(g.weight), w, "{w}");
            assert_eq!(of_the_grid(g.weight_sq), w * w, "{w}");
        }
        // Below, to within half a grid step.
        let w = 1e-9;
        let g = Grid::new(w).unwrap();
        assert!((of_the_grid(g.weight) - w).abs() <= 0.5 / SCALE);
    }

    #[test]
    fn the_sum_is_the_exactly_rounded_sum() {
        // 0.1 ten times: a running double sum gives 0.9999999999999999.
        let running: f64 = std::iter::repeat_n(0.1, 10).sum();
        assert_ne!(running, 1.0);
        // The exact sum of ten doubles nearest 0.1 is 1.0000000000000000555…, nearest 1.0.
        assert_eq!(sum_of(std::iter::repeat_n(0.1, 10)).unwrap(), 1.0);
        let sums = WeightSums::of(0.1, 10).unwrap();
        assert_eq!((sums.weight(), sums.count()), (1.0, 10));
    }

    #[test]
    fn too_large_is_an_error_not_a_wrong_sum() {
        assert!(Grid::new(2e8).is_err(), "its square passes 2^55");
        assert!(Grid::new(1e8).is_ok());
        let mut sums = WeightSums::of(1e8, 1).unwrap();
        let e = sums
            .add_times(&Grid::new(1e8).unwrap(), 1 << 30)
            .unwrap_err();
        assert!(e.to_string().contains("divide the weight column"), "{e}");
        assert!(Grid::new(f64::MAX).is_err());
    }

    proptest! {
        /// Any order, any grouping of the additions: the same bits.
        #[test]
        fn any_order_gives_the_same_bits(
            weights in prop::collection::vec(0.0f64..1e5, 1..200),
            cut in 0usize..200,
            seed in any::<u64>(),
        ) {
            let whole = sum_of(weights.iter().copied()).unwrap();
            let cut = cut.min(weights.len());
            let mut a = WeightSums::default();
            let mut b = WeightSums::default();
            for &w in &weights[..cut] { a.add_times(&Grid::new(w).unwrap(), 1).unwrap(); }
            for &w in weights[cut..].iter().rev() { b.add_times(&Grid::new(w).unwrap(), 1).unwrap(); }
            b.add(&a).unwrap();
            prop_assert_eq!(b.weight().to_bits(), whole.to_bits());
            let mut shuffled = weights.clone();
            let n = shuffled.len();
            for i in 0..n { shuffled.swap(i, (seed as usize).wrapping_mul(i + 7) % n); }
            prop_assert_eq!(sum_of(shuffled).unwrap().to_bits(), whole.to_bits());
        }
    }
}
