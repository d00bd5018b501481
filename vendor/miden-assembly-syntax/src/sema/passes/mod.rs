mod const_eval;
mod verify_invoke;
mod verify_repeat;

pub(super) use self::verify_invoke::{LocalInvokeTarget, VerifyInvokeTargets};
pub use self::{const_eval::ConstEvalVisitor, verify_repeat::VerifyRepeatCounts};
