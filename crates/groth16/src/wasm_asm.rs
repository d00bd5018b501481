//! Hand-assembled circom-shaped WebAssembly modules for tests of the witness runner's limits:
//! each exports what `witness_wasm` calls, passes its field check (the shared buffer reads
//! back BN254's prime), and misbehaves in one export. Assembled here rather than from text so
//! that the tests need no assembler crate.

use ark_bn254::Fr;
use ark_ff::PrimeField;

use crate::binfile::prime_bytes;

/// Instructions, as their opcodes.
const UNREACHABLE: u8 = 0x00;
const LOOP: u8 = 0x03;
const EMPTY_BLOCK: u8 = 0x40;
const BR: u8 = 0x0c;
const END: u8 = 0x0b;
const DROP: u8 = 0x1a;
const LOCAL_GET: u8 = 0x20;
const I32_LOAD: u8 = 0x28;
const MEMORY_GROW: u8 = 0x40;
const I32_CONST: u8 = 0x41;
const I32_MUL: u8 = 0x6c;
const I32: u8 = 0x7f;

/// What a module's exports do, as instruction bytes without the final `end`.
pub(crate) struct Circom {
    /// Pages of memory declared at start.
    pub initial_pages: u32,
    /// The body of `init(i32)`.
    pub init: Vec<u8>,
    /// What `getWitnessSize()` returns.
    pub witness_size: i32,
}

impl Default for Circom {
    fn default() -> Self {
        Self {
            initial_pages: 1,
            init: Vec::new(),
            witness_size: 4,
        }
    }
}

/// `init` that grows memory by `pages` at a time, forever, ignoring failures.
pub(crate) fn grow_forever(pages: i32) -> Vec<u8> {
    let mut body = vec![LOOP, EMPTY_BLOCK, I32_CONST];
    body.extend(sleb(pages));
    body.extend([MEMORY_GROW, 0, DROP, BR, 0, END]);
    body
}

/// `init` that loops forever.
pub(crate) fn spin() -> Vec<u8> {
    vec![LOOP, EMPTY_BLOCK, BR, 0, END]
}

/// The modules the limits tests use, by name; also seeds of the wasm fuzz target.
pub(crate) fn hostile_modules() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("benign", Circom::default().module()),
        (
            "grows-forever",
            Circom {
                init: grow_forever(16),
                ..Circom::default()
            }
            .module(),
        ),
        (
            "declares-4gib",
            Circom {
                initial_pages: 65536,
                ..Circom::default()
            }
            .module(),
        ),
        (
            "huge-witness",
            Circom {
                witness_size: 1 << 30,
                ..Circom::default()
            }
            .module(),
        ),
        (
            "spins",
            Circom {
                init: spin(),
                ..Circom::default()
            }
            .module(),
        ),
    ]
}

impl Circom {
    /// The module's bytes.
    pub fn module(&self) -> Vec<u8> {
        let (i32_, none): (&[u8], &[u8]) = (&[I32], &[]);
        let const_i32 = |v: i32| [&[I32_CONST][..], &sleb(v)].concat();
        // Word `i` of the shared buffer is at address 4i, where the data segment put the prime.
        let read_word = vec![LOCAL_GET, 0, I32_CONST, 4, I32_MUL, I32_LOAD, 2, 0];
        let funcs = [
            Func::new("init", i32_, none, self.init.clone()),
            Func::new("getFieldNumLen32", none, i32_, const_i32(8)),
            Func::new("getRawPrime", none, none, Vec::new()),
            Func::new("readSharedRWMemory", i32_, i32_, read_word),
            Func::new("writeSharedRWMemory", &[I32, I32], none, Vec::new()),
            Func::new("getInputSignalSize", &[I32, I32], i32_, const_i32(-1)),
            Func::new("setInputSignal", &[I32, I32, I32], none, Vec::new()),
            Func::new("getInputSize", none, i32_, const_i32(0)),
            Func::new("getWitnessSize", none, i32_, const_i32(self.witness_size)),
            // Tests of refusals before collection fail loudly if a value is collected.
            Func::new("getWitness", i32_, none, vec![UNREACHABLE]),
        ];

        // Function `i` has type `i` and is exported under its name.
        let per_func = |item: &dyn Fn(usize) -> Vec<u8>| {
            let items: Vec<u8> = (0..funcs.len()).flat_map(item).collect();
            [uleb(funcs.len() as u32), items].concat()
        };
        let types = per_func(&|i| {
            [
                &[0x60][..],
                &vec_of(funcs[i].params),
                &vec_of(funcs[i].results),
            ]
            .concat()
        });
        let indices = per_func(&|i| uleb(i as u32));
        let exports =
            per_func(&|i| [vec_of(funcs[i].name.as_bytes()), vec![0x00], uleb(i as u32)].concat());
        // No locals, the body, `end`.
        let code = per_func(&|i| vec_of(&[&[0][..], &funcs[i].body, &[END]].concat()));
        // One memory without a maximum; one active data segment at address 0.
        let memory = [&[0x01, 0x00][..], &uleb(self.initial_pages)].concat();
        let prime = prime_bytes(Fr::MODULUS);
        let data = [&[0x01, 0x00, I32_CONST, 0, END][..], &vec_of(&prime)].concat();

        let mut out = b"\0asm\x01\0\0\0".to_vec();
        for (id, body) in [
            (1u8, types),
            (3, indices),
            (5, memory),
            (7, exports),
            (10, code),
            (11, data),
        ] {
            out.push(id);
            out.extend(vec_of(&body));
        }
        out
    }
}

/// One exported function: its name, its type, and its instructions without the final `end`.
struct Func {
    name: &'static str,
    params: &'static [u8],
    results: &'static [u8],
    body: Vec<u8>,
}

impl Func {
    fn new(
        name: &'static str,
        params: &'static [u8],
        results: &'static [u8],
        body: Vec<u8>,
    ) -> Self {
        Self {
            name,
            params,
            results,
            body,
        }
    }
}

/// Bytes after their length.
fn vec_of(bytes: &[u8]) -> Vec<u8> {
    [uleb(bytes.len() as u32), bytes.to_vec()].concat()
}

fn uleb(mut v: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

fn sleb(mut v: i32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let done = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return out;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{compute_witness, compute_witness_with, Groth16Limits};
    use zkpool_backend::BackendError;
    use zkpool_types::ArtifactRole;

    fn small() -> Groth16Limits {
        Groth16Limits {
            wasm_memory_bytes: 16 << 20,
            wasm_fuel: 50_000_000,
            ..Groth16Limits::default()
        }
    }

    fn over_limit_reason(result: Result<Vec<Fr>, BackendError>) -> String {
        match result {
            Err(BackendError::OverLimit {
                role: ArtifactRole::Wasm,
                reason,
            }) => reason,
            other => panic!("expected over_limit, got {other:?}"),
        }
    }

    #[test]
    fn leb128_encodes_as_the_spec_says() {
        assert_eq!(uleb(624_485), [0xe5, 0x8e, 0x26]);
        assert_eq!(sleb(-123_456), [0xc0, 0xbb, 0x78]);
        assert_eq!(sleb(64), [0xc0, 0x00]);
        assert_eq!(sleb(-1), [0x7f]);
    }

    #[test]
    fn a_benign_module_runs_up_to_its_witness() {
        // Its getWitness traps: getting that far means the field check and inputs passed.
        let err =
            compute_witness_with(&Circom::default().module(), b"{}", &small(), None).unwrap_err();
        assert!(err.to_string().contains("unreachable"), "{err}");
    }

    #[test]
    fn memory_grown_without_end_is_over_limit() {
        for pages in [1, 16, 1000] {
            let wasm = Circom {
                init: grow_forever(pages),
                ..Circom::default()
            }
            .module();
            let reason = over_limit_reason(compute_witness_with(&wasm, b"{}", &small(), None));
            assert!(reason.contains("limit of 16 MiB"), "{reason}");
            assert!(reason.contains("wasm_memory_bytes"), "{reason}");
        }
    }

    #[test]
    fn memory_declared_over_the_limit_is_refused_at_instantiation() {
        let wasm = Circom {
            initial_pages: 65536,
            ..Circom::default()
        }
        .module();
        let reason = over_limit_reason(compute_witness(&wasm, b"{}"));
        assert!(reason.contains("asks for 4096 MiB"), "{reason}");
        assert!(reason.contains("limit of 1024 MiB"), "{reason}");
    }

    #[test]
    fn a_huge_witness_is_refused_before_any_value_is_collected() {
        let wasm = Circom {
            witness_size: 1 << 30,
            ..Circom::default()
        }
        .module();
        // Collecting would hit getWitness's `unreachable`, a malformed error instead.
        let reason = over_limit_reason(compute_witness(&wasm, b"{}"));
        assert!(reason.contains("1073741824 witness values"), "{reason}");
        assert!(reason.contains("max_witness_len"), "{reason}");
    }

    #[test]
    fn a_witness_of_another_length_than_the_r1cs_is_a_mismatch() {
        let wasm = Circom::default().module();
        let err = compute_witness_with(&wasm, b"{}", &small(), Some(5)).unwrap_err();
        assert!(matches!(err, BackendError::Mismatch(_)), "{err}");
        assert!(err.to_string().contains("makes 4 values"), "{err}");
    }

    #[test]
    fn an_endless_loop_is_over_the_fuel_limit() {
        let wasm = Circom {
            init: spin(),
            ..Circom::default()
        }
        .module();
        let reason = over_limit_reason(compute_witness_with(&wasm, b"{}", &small(), None));
        assert!(reason.contains("50000000 instructions"), "{reason}");
    }

    #[test]
    fn oversized_input_json_is_over_limit() {
        let limits = Groth16Limits {
            max_input_bytes: 10,
            max_witness_len: 3,
            ..small()
        };
        let wasm = Circom::default().module();
        let err = compute_witness_with(&wasm, br#"{"a": [1, 2, 3]}"#, &limits, None).unwrap_err();
        assert_eq!(err.code(), "over_limit");
        assert!(err.to_string().contains("max_input_bytes"), "{err}");
        let limits = Groth16Limits {
            max_witness_len: 3,
            ..small()
        };
        let err = compute_witness_with(&wasm, br#"{"a": [1, 2], "b": [3, 4]}"#, &limits, None)
            .unwrap_err();
        assert!(err.to_string().contains("4 values"), "{err}");
    }
}
