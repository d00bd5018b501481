use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            /// Accepts `42` and the display form `t-42`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.strip_prefix($prefix).unwrap_or(s).parse().map(Self)
            }
        }
    };
}

id_type!(
    /// A proving task, as numbered by the node's database.
    TaskId,
    "t-"
);
id_type!(
    /// A registered prover machine (one per agent process).
    ProverId,
    "p-"
);
id_type!(
    /// One lease of one task to one prover.
    LeaseId,
    "l-"
);
id_type!(
    /// An access key's row; the secret itself is never stored.
    KeyId,
    "k-"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_display_and_parse_with_or_without_prefix() {
        assert_eq!(TaskId(7).to_string(), "t-7");
        assert_eq!("t-7".parse::<TaskId>().unwrap(), TaskId(7));
        assert_eq!("7".parse::<TaskId>().unwrap(), TaskId(7));
        assert!("p-7x".parse::<ProverId>().is_err());
    }
}
