//! Token amounts as integer base units, and the one rounding rule every split uses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::LedgerError;

/// Decimal places of the pool token: 1 ZKP = 10^6 base units.
pub const DECIMALS: u32 = 6;
const UNIT: u128 = 10u128.pow(DECIMALS);

/// Basis points in one whole: 10_000 bps = 100 %.
pub const BPS_DENOMINATOR: u32 = 10_000;

/// An amount of the pool token in base units (10^-6 ZKP).
///
/// Arithmetic is checked: overflow and underflow are errors, never wraps or panics. Amounts
/// are never fractional and never negative; every division in this crate goes through
/// [`mul_div_floor`], and whatever the floor leaves over is a named remainder that goes to the
/// pool treasury.
///
/// Displayed as tokens with all six decimals (`1.250000 ZKP`); serialised as a decimal string
/// of base units (`"1250000"`), because JSON numbers above 2^53 lose precision in JavaScript.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u128);

impl Amount {
    /// Nothing.
    pub const ZERO: Amount = Amount(0);
    /// The largest representable amount.
    pub const MAX: Amount = Amount(u128::MAX);

    /// An amount of `units` base units.
    pub const fn from_base_units(units: u128) -> Amount {
        Amount(units)
    }

    /// `tokens` whole tokens (`tokens × 10^6` base units; cannot overflow for a u64).
    pub const fn from_tokens(tokens: u64) -> Amount {
        Amount(tokens as u128 * UNIT)
    }

    /// The amount in base units.
    pub const fn base_units(self) -> u128 {
        self.0
    }

    /// True for zero.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`, or [`LedgerError::Overflow`].
    pub fn checked_add(self, other: Amount) -> Result<Amount, LedgerError> {
        self.0
            .checked_add(other.0)
            .map(Amount)
            .ok_or(LedgerError::Overflow)
    }

    /// `self - other`, or `None` when `other > self`. Callers turn `None` into the
    /// [`LedgerError::InsufficientFunds`] that names the account.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `floor(self × bps / 10_000)` and the remainder `self − that`. `bps` above 10_000 is
    /// clamped to 10_000, so the share never exceeds the whole.
    pub fn split_bps(self, bps: u32) -> (Amount, Amount) {
        let bps = bps.min(BPS_DENOMINATOR) as u128;
        // Cannot fail: num <= den and den != 0.
        let share = mul_div_floor(self.0, bps, BPS_DENOMINATOR as u128).unwrap_or(0);
        (Amount(share), Amount(self.0 - share))
    }

    /// The smaller of two amounts.
    pub fn min(self, other: Amount) -> Amount {
        Amount(self.0.min(other.0))
    }
}

/// `floor(n × num / den)` for `num <= den`, exact, without a 256-bit intermediate.
///
/// Uses `n × num / den = (n div den) × num + ((n mod den) × num) / den`; the first term is at
/// most `n`, the second product overflows only when `den` is above 2^64, in which case this
/// returns `None` (callers map it to an overflow error). Returns `None` for `den == 0` or
/// `num > den`.
pub fn mul_div_floor(n: u128, num: u128, den: u128) -> Option<u128> {
    if den == 0 || num > den {
        return None;
    }
    let whole = (n / den) * num;
    let part = (n % den).checked_mul(num)? / den;
    whole.checked_add(part)
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{:0width$} ZKP",
            self.0 / UNIT,
            self.0 % UNIT,
            width = DECIMALS as usize
        )
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// An amount string that is neither base units nor `N.DDDDDD [ZKP]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse amount {0:?}: expected base units (\"1250000\") or tokens (\"1.25 ZKP\")")]
pub struct ParseAmountError(pub String);

impl FromStr for Amount {
    type Err = ParseAmountError;
    /// Accepts plain base units (`1250000`) or tokens with a decimal point and an optional
    /// unit (`1.25`, `1.250000 ZKP`); more than six decimals is an error, not a rounding.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAmountError(s.to_string());
        let t = s.trim();
        let t = t.strip_suffix("ZKP").map(str::trim_end).unwrap_or(t);
        let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
        match t.split_once('.') {
            None if digits(t) => t.parse().map(Amount).map_err(|_| err()),
            Some((whole, frac)) if digits(whole) && digits(frac) && frac.len() <= 6 => {
                // "1.25" means 1.250000: scale the fraction up to six digits.
                let scale = 10u128.pow(DECIMALS - frac.len() as u32);
                let whole: u128 = whole.parse().map_err(|_| err())?;
                let frac: u128 = frac.parse().map_err(|_| err())?;
                whole
                    .checked_mul(UNIT)
                    .and_then(|w| w.checked_add(frac * scale))
                    .map(Amount)
                    .ok_or_else(err)
            }
            _ => Err(err()),
        }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<u128>()
            .map(Amount)
            .map_err(|_| serde::de::Error::custom(format!("amount {s:?} is not base units")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_has_six_decimals_and_unit() {
        assert_eq!(
            Amount::from_base_units(1_250_000).to_string(),
            "1.250000 ZKP"
        );
        assert_eq!(Amount::from_base_units(7).to_string(), "0.000007 ZKP");
        assert_eq!(Amount::from_tokens(3).to_string(), "3.000000 ZKP");
    }

    #[test]
    fn parse_accepts_base_units_and_tokens() {
        assert_eq!("1250000".parse::<Amount>().unwrap().base_units(), 1_250_000);
        assert_eq!("1.25".parse::<Amount>().unwrap().base_units(), 1_250_000);
        assert_eq!(
            "1.250000 ZKP".parse::<Amount>().unwrap().base_units(),
            1_250_000
        );
        assert_eq!("0.000001".parse::<Amount>().unwrap().base_units(), 1);
        for bad in ["", "1.", ".5", "1.0000001", "-1", "1e6", "abc"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn serde_is_a_base_unit_string() {
        let a = Amount::from_base_units(u128::MAX);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(json, format!("\"{}\"", u128::MAX));
        assert_eq!(serde_json::from_str::<Amount>(&json).unwrap(), a);
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(
            Amount::MAX.checked_add(Amount::from_base_units(1)),
            Err(LedgerError::Overflow)
        );
        assert_eq!(Amount::ZERO.checked_sub(Amount::from_base_units(1)), None);
    }

    #[test]
    fn split_bps_floors_and_names_the_remainder() {
        let (share, rest) = Amount::from_base_units(101).split_bps(8_000);
        assert_eq!((share.base_units(), rest.base_units()), (80, 21));
        let (share, rest) = Amount::MAX.split_bps(8_000);
        assert_eq!(share.base_units() + rest.base_units(), u128::MAX);
    }

    #[test]
    fn mul_div_floor_is_exact_for_huge_n() {
        assert_eq!(mul_div_floor(u128::MAX, 1, 3), Some(u128::MAX / 3));
        assert_eq!(mul_div_floor(u128::MAX, 3, 3), Some(u128::MAX));
        assert_eq!(mul_div_floor(10, 4, 3), None);
        assert_eq!(mul_div_floor(10, 0, 0), None);
        assert_eq!(mul_div_floor(1000, 333, 1000), Some(333));
    }
}
