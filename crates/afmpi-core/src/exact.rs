//! Exact numbers: a weight or cutoff as written in the methodology file in, an exact
//! fraction out ([`Exact`]).
//!
//! "1/18" is exactly one eighteenth and a decimal such as 0.0555556 is exactly what was
//! written, so that identification (`c_i >= k`) is decided later with integers
//! ([`crate::identification`]), free of floating-point error.

use std::fmt;

use num_rational::Ratio;
use num_traits::{CheckedAdd, CheckedDiv, CheckedSub};
use serde::Deserialize;

/// The message when exact arithmetic would leave i128: every sum and difference of
/// weights goes through [`sum`], [`difference`] or [`quotient`], which refuse to overflow.
pub const TOO_FINE: &str = "the weights and cutoffs together need a common denominator too large for exact arithmetic (more than 2^127): write them with fewer decimal places or fewer distinct denominators (\"1/3\" and \"1/18\" share one; 30 different primes do not)";

fn too_fine_ratio(text: &str) -> String {
    format!("\"{text}\": {TOO_FINE}")
}

/// The exact sum, or [`TOO_FINE`] where i128 cannot hold it.
pub fn sum(
    values: impl IntoIterator<Item = Ratio<i128>>,
) -> std::result::Result<Ratio<i128>, String> {
    values
        .into_iter()
        .try_fold(Ratio::from_integer(0), |acc, v| acc.checked_add(&v))
        .ok_or_else(|| TOO_FINE.to_string())
}

/// `a - b` exactly, or [`TOO_FINE`].
pub fn difference(a: Ratio<i128>, b: Ratio<i128>) -> std::result::Result<Ratio<i128>, String> {
    a.checked_sub(&b).ok_or_else(|| TOO_FINE.to_string())
}

/// `a / n` exactly, or [`TOO_FINE`].
pub fn quotient(a: Ratio<i128>, n: i128) -> std::result::Result<Ratio<i128>, String> {
    a.checked_div(&Ratio::from_integer(n))
        .ok_or_else(|| TOO_FINE.to_string())
}

/// An exact non-negative fraction, with a note of whether it was written as a decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    pub value: Ratio<i128>,
    /// True when the value was written as a decimal (0.0555556) rather than a fraction.
    pub decimal: bool,
}

impl Exact {
    pub fn to_f64(self) -> f64 {
        *self.value.numer() as f64 / *self.value.denom() as f64
    }

    /// Parses "1/18", "0.15", "3" or "2.5e-1" into an exact fraction.
    pub fn parse(text: &str) -> std::result::Result<Exact, String> {
        let text = text.trim();
        if let Some((num, den)) = text.split_once('/') {
            let num = parse_decimal(num.trim())?;
            let den = parse_decimal(den.trim())?;
            if *den.numer() == 0 {
                return Err(format!("\"{text}\" divides by zero"));
            }
            Ok(Exact {
                value: num.checked_div(&den).ok_or_else(|| too_fine_ratio(text))?,
                decimal: false,
            })
        } else {
            let value = parse_decimal(text)?;
            let decimal = text.contains('.') || text.contains(['e', 'E']);
            Ok(Exact { value, decimal })
        }
    }

    /// A TOML float becomes the decimal that prints it (0.15 stays 0.15, not its binary
    /// neighbour), so a number in the file means what it shows.
    pub fn from_f64(x: f64) -> std::result::Result<Exact, String> {
        if !x.is_finite() {
            return Err(format!("{x} is not a finite number"));
        }
        Exact::parse(&format!("{x}"))
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_integer() || !self.decimal {
            write!(f, "{}", self.value)
        } else {
            write!(f, "{}", self.to_f64())
        }
    }
}

fn parse_decimal(text: &str) -> std::result::Result<Ratio<i128>, String> {
    let bad = || {
        format!("\"{text}\" is not a number: write a decimal such as 0.15 or a fraction such as \"1/18\"")
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    if !int_part
        .chars()
        .chain(frac_part.chars())
        .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits = format!("{int_part}{frac_part}");
    let too_fine =
        || format!("\"{text}\" has more digits than afmpi can keep exactly (at most 30)");
    let mut numer: i128 = digits.parse().map_err(|_| too_fine())?;
    let scale = exponent - frac_part.len() as i32;
    let mut denom: i128 = 1;
    let pow = 10i128
        .checked_pow(scale.unsigned_abs())
        .ok_or_else(too_fine)?;
    if scale >= 0 {
        numer = numer.checked_mul(pow).ok_or_else(too_fine)?;
    } else {
        denom = pow;
    }
    if negative {
        numer = -numer;
    }
    Ok(Ratio::new(numer, denom))
}

/// A weight or cutoff as written in TOML: a number, or a string holding a decimal or fraction.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Number {
    pub fn exact(&self) -> std::result::Result<Exact, String> {
        match self {
            Number::Int(i) => Ok(Exact {
                value: Ratio::from_integer(*i as i128),
                decimal: false,
            }),
            Number::Float(x) => Exact::from_f64(*x),
            Number::Text(s) => Exact::parse(s),
        }
    }
}
