//! The segment program: the requester's `step` wrapped in a loop over chunks, assembled within
//! [`MidenLimits`].
//!
//! Assembly is work at submit too, and a few bytes can ask for a lot of it: `repeat.N` copies
//! its body `N` times (N up to a million), nested repeats of a basic block multiply, and every
//! copy costs the assembler a MAST node. So the source is bounded twice before the assembler
//! sees it: its nesting depth by a scan of its words (the parser and the checks after it
//! recurse, and a deep enough nest would overflow the stack), and its size once repeats are
//! expanded by a walk over the parsed syntax tree.

use std::sync::Arc;

use miden_vm::assembly::ast::{Block, Immediate, ModuleKind, Op};
use miden_vm::assembly::{DefaultSourceManager, Parse, ParseOptions, Path, SourceManager};
use miden_vm::{Assembler, Program};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::MidenLimits;

/// Deepest nesting of blocks the source may have, counting `proc` and `begin`: the assembler
/// refuses control flow nested past 256 anyway; this refuses it before the parser recurses.
const MAX_NESTING: usize = 300;

/// Miden's largest repeat count (`miden_assembly_syntax::MAX_REPEAT_COUNT`, not re-exported).
const MAX_REPEAT_COUNT: u64 = 1_000_000;

/// Wraps `step` in the loop every segment runs.
///
/// Operand stack on entry: `[n, STATE]` (`n` chunks to consume, the state word below it); on
/// exit: `[STATE', 0, …]`. `step` must turn `[STATE]` into `[STATE']`, reading its chunk from
/// the advice stack and leaving nothing else behind.
pub fn segment_source(step_source: &str) -> String {
    format!(
        "{step_source}

begin
    dup neq.0
    while.true
        movdn.4
        exec.step
        movup.4 sub.1
        dup neq.0
    end
    drop
end
"
    )
}

/// [`assemble_within`] under [`MidenLimits::default`].
pub fn assemble(step_source: &str) -> Result<Program, BackendError> {
    assemble_within(step_source, &MidenLimits::default())
}

/// Assembles the segment program around `step_source`. A source that does not assemble (or
/// defines no `step`) is [`BackendError::Malformed`] for [`ArtifactRole::Program`]; one longer
/// than [`MidenLimits::max_program_bytes`], nested deeper than the assembler allows, or past
/// [`MidenLimits::max_program_ops`] once its repeats are expanded is
/// [`BackendError::OverLimit`], refused before it is assembled.
pub fn assemble_within(step_source: &str, limits: &MidenLimits) -> Result<Program, BackendError> {
    limits.check_program(step_source.as_bytes())?;
    check_nesting(step_source)?;
    let source_manager: Arc<dyn SourceManager> = Arc::new(DefaultSourceManager::default());
    let malformed = |e: miden_vm::assembly::Report| {
        BackendError::malformed(ArtifactRole::Program, format!("{e}"))
    };
    let module = segment_source(step_source)
        .parse_with_options(
            source_manager.clone(),
            ParseOptions {
                kind: ModuleKind::Executable,
                warnings_as_errors: false,
                path: Some(Path::exec_path().into()),
            },
        )
        .map_err(malformed)?;
    let ops = module
        .procedures()
        .fold(0u64, |n, p| n.saturating_add(expanded_ops(p.body())));
    if ops > limits.max_program_ops {
        return Err(BackendError::over_limit(
            ArtifactRole::Program,
            format!(
                "the program expands to {ops} instructions with its repeats unrolled, \
                 max_program_ops is {}",
                limits.max_program_ops
            ),
        ));
    }
    Assembler::new(source_manager)
        .assemble_program(module)
        .map_err(malformed)
}

/// Instructions `block` stands for once every `repeat` is unrolled: an upper bound on the
/// assembler's work, since it may inline a repeated block that many times. A count the parser
/// left unresolved is taken at Miden's maximum.
fn expanded_ops(block: &Block) -> u64 {
    // An explicit stack of (ops, multiplier), not recursion: the nesting is bounded, but this
    // need not rely on it.
    let mut total = 0u64;
    let mut stack: Vec<(std::slice::Iter<'_, Op>, u64)> = vec![(block.iter(), 1)];
    while let Some((ops, times)) = stack.pop() {
        for op in ops {
            total = total.saturating_add(times);
            match op {
                Op::Inst(_) => {}
                Op::If {
                    then_blk, else_blk, ..
                } => {
                    stack.push((then_blk.iter(), times));
                    stack.push((else_blk.iter(), times));
                }
                Op::While { body, .. } => stack.push((body.iter(), times)),
                Op::Repeat { count, body, .. } => {
                    let n = match count {
                        Immediate::Value(v) => u64::from(**v),
                        Immediate::Constant(_) => MAX_REPEAT_COUNT,
                    };
                    stack.push((body.iter(), times.saturating_mul(n)));
                }
            }
        }
    }
    total
}

/// Refuses a source whose blocks nest deeper than [`MAX_NESTING`], from its words alone
/// (comments skipped). Every word that may open a block counts as opening one, so the depth is
/// over- rather than under-estimated.
fn check_nesting(source: &str) -> Result<(), BackendError> {
    let mut depth = 0usize;
    for line in source.lines() {
        let code = line.split('#').next().unwrap_or("");
        for word in code.split_whitespace() {
            if word == "end" {
                depth = depth.saturating_sub(1);
            } else if word == "begin"
                || word == "proc"
                || word.starts_with("if.")
                || word.starts_with("while.")
                || word.starts_with("repeat.")
            {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(BackendError::over_limit(
                        ArtifactRole::Program,
                        format!("blocks nest deeper than {MAX_NESTING}"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_without_step_is_malformed() {
        let err = assemble("proc other\n    nop\nend").unwrap_err();
        assert!(matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Program,
                ..
            }
        ));
    }

    /// Found by the `miden_program_source` fuzz target: a `0x` or `0b` prefix without a digit
    /// tripped a debug assertion in Miden's lexer (patched in vendor/, see vendor/README.md).
    #[test]
    fn a_literal_prefix_without_digits_is_malformed_not_a_panic() {
        for source in [
            "proc step\n    push.0x\nend\n",
            "proc step\n    push.0x, 1\nend\n",
            "proc step\n    push.0b\nend\n",
        ] {
            let err = assemble(source).unwrap_err();
            assert_eq!(err.code(), "malformed_artifact", "{source:?}: {err}");
        }
    }

    #[test]
    fn repeats_are_counted_unrolled_before_assembly() {
        let limits = MidenLimits {
            max_program_ops: 10_000,
            ..MidenLimits::default()
        };
        let small = "proc step\n    adv_pushw hmerge\n    repeat.100\n        repeat.10\n            nop\n        end\n    end\nend\n";
        assert!(assemble_within(small, &limits).is_ok());
        // A million copies of a million copies: refused in microseconds, not assembled.
        let huge = "proc step\n    adv_pushw hmerge\n    repeat.1000000\n        repeat.1000000\n            nop\n        end\n    end\nend\n";
        let started = std::time::Instant::now();
        let err = assemble_within(huge, &limits).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
        assert!(err.to_string().contains("max_program_ops"), "{err}");
        assert!(
            started.elapsed().as_millis() < 500,
            "{:?}",
            started.elapsed()
        );
        // A repeat count from a constant is resolved before it is counted.
        let by_constant = "const N = 1000000\nproc step\n    adv_pushw hmerge\n    repeat.N\n        nop\n    end\nend\n";
        let err = assemble_within(by_constant, &limits).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        let deep = format!(
            "proc step\n{}adv_pushw hmerge\n{}end\n",
            "if.true\n".repeat(10_000),
            "end\n".repeat(10_000)
        );
        let err = assemble(&deep).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
        assert!(err.to_string().contains("nest"), "{err}");
        // Commented-out openers do not count.
        let commented = format!(
            "{}proc step\n    adv_pushw hmerge\nend\n",
            "# if.true\n".repeat(1000)
        );
        assert!(assemble(&commented).is_ok());
    }
}
