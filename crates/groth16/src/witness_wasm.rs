//! Runs a circom 2 witness generator (`<circuit>.wasm`) on `input.json`, in the `wasmi`
//! interpreter: no JIT, so an untrusted module cannot reach native code; an instruction
//! budget bounds how long a hostile one can run on the node, and a memory limit how much it
//! can take (both from [`Groth16Limits`]). A module that reaches either is refused with
//! [`BackendError::OverLimit`]: a `memory.grow` past the limit traps instead of returning -1,
//! so a module that ignores the failure cannot carry on into a confusing error.
//!
//! The protocol follows circom's `witness_calculator.js`:
//!
//! ```text
//!   getFieldNumLen32, getRawPrime + readSharedRWMemory   check the field is BN254's
//!   init(1)
//!   per input signal: getInputSignalSize(h) and, per value,
//!     writeSharedRWMemory(limbs) + setInputSignal(h, i)  the last one runs the circuit
//!   getWitnessSize, per wire: getWitness(i) + readSharedRWMemory(limbs)
//! ```
//!
//! where `h` is the 64-bit FNV-1a hash of the signal's name, split into high and low halves.

use std::str::FromStr;

use ark_bn254::Fr;
use ark_ff::{BigInt, PrimeField};
use num_bigint::{BigInt as SignedBig, BigUint, Sign};
use serde_json::Value;
use wasmi::core::TrapCode;
use wasmi::errors::{MemoryError, TableError};
use wasmi::{Caller, Config, Engine, Linker, Module, ResourceLimiter, Store, TypedFunc};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::limits::{check_count, mib, Groth16Limits};

/// Table elements a module may declare or grow to: circom's tables hold one function
/// reference per template, dozens to thousands.
const TABLE_ELEMENTS: u32 = 1 << 20;

/// Bytes of `printErrorMessage` output kept for the error report.
const MAX_ERROR_TEXT: usize = 16 << 10;

/// Characters of one `input.json` value given as a string.
const MAX_VALUE_CHARS: usize = 1024;

/// Computes the witness of `wasm` for the inputs in `input_json` within the default
/// [`Groth16Limits`].
pub fn compute_witness(wasm: &[u8], input_json: &[u8]) -> Result<Vec<Fr>, BackendError> {
    compute_witness_with(wasm, input_json, &Groth16Limits::default(), None)
}

/// Computes the witness of `wasm` for the inputs in `input_json` within `limits`.
/// `expected_len`, the circuit's wire count when known (the r1cs's), is compared with what
/// the generator announces before any value is collected: a different length is
/// [`BackendError::Mismatch`], one past `limits.max_witness_len`
/// [`BackendError::OverLimit`].
pub fn compute_witness_with(
    wasm: &[u8],
    input_json: &[u8],
    limits: &Groth16Limits,
    expected_len: Option<usize>,
) -> Result<Vec<Fr>, BackendError> {
    let inputs = parse_inputs(input_json, limits)?;
    let mut runner = Runner::new(wasm, limits)?;
    runner.check_field()?;
    runner.call(&runner.init.clone(), 1)?;

    let mut set = 0usize;
    for (name, values) in &inputs {
        let (msb, lsb) = fnv1a_halves(name);
        let size = runner.call(&runner.input_signal_size.clone(), (msb, lsb))?;
        // circom returns -1 or, in some versions, 0 for an unknown name; real signals have ≥ 1.
        if size <= 0 {
            return Err(input_err(format!(
                "the circuit has no input signal {name:?}"
            )));
        }
        if values.len() != size as usize {
            return Err(input_err(format!(
                "input signal {name:?} takes {size} values, input.json gives {}",
                values.len()
            )));
        }
        for (i, v) in values.iter().enumerate() {
            runner.write_shared(v)?;
            runner.call(&runner.set_input_signal.clone(), (msb, lsb, i as i32))?;
            set += 1;
        }
    }
    let expected = runner.call(&runner.input_size.clone(), ())?;
    if set != expected as usize {
        return Err(input_err(format!(
            "the circuit takes {expected} input values, input.json gives {set}"
        )));
    }

    let count = runner.call(&runner.witness_size.clone(), ())?;
    let n =
        usize::try_from(count).map_err(|_| wasm_err(format!("getWitnessSize returned {count}")))?;
    check_count(
        ArtifactRole::Wasm,
        "witness values",
        n,
        limits.max_witness_len,
        "max_witness_len",
    )?;
    if let Some(wires) = expected_len.filter(|&w| w != n) {
        return Err(BackendError::Mismatch(format!(
            "the witness generator makes {n} values, the r1cs has {wires} wires"
        )));
    }
    // Not preallocated: each value costs the module a call, so the vector grows only as fast
    // as the fuel allows.
    (0..count)
        .map(|i| {
            runner.call(&runner.get_witness.clone(), i)?;
            Fr::from_bigint(runner.read_shared()?)
                .ok_or_else(|| wasm_err(format!("witness value {i} is not reduced")))
        })
        .collect()
}

fn input_err(reason: impl Into<String>) -> BackendError {
    BackendError::malformed(ArtifactRole::Input, reason)
}

fn wasm_err(reason: impl Into<String>) -> BackendError {
    BackendError::malformed(ArtifactRole::Wasm, reason)
}

/// What the host functions record while the module runs.
#[derive(Debug)]
struct Host {
    /// Messages from `printErrorMessage` (circom writes which assert failed, and where), up to
    /// [`MAX_ERROR_TEXT`] bytes.
    errors: String,
    limiter: Limiter,
}

/// Caps the module's memory and tables, and remembers a refused memory request, so that the
/// error can name the limit rather than the trap it causes.
#[derive(Debug)]
struct Limiter {
    memory_bytes: usize,
    /// The size in bytes a refused memory request asked for.
    refused: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, MemoryError> {
        if desired > self.memory_bytes {
            self.refused = Some(desired);
            // An error, not `Ok(false)`: the instruction traps rather than return -1.
            return Err(MemoryError::OutOfBoundsGrowth);
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }

    fn table_growing(
        &mut self,
        _current: u32,
        desired: u32,
        maximum: Option<u32>,
    ) -> Result<bool, TableError> {
        Ok(desired <= TABLE_ELEMENTS && maximum.is_none_or(|max| desired <= max))
    }

    // A circom module has one instance, one memory and one table; more memories would each
    // get the whole memory limit.
    fn instances(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }
}

/// An instantiated generator and its exports.
struct Runner {
    store: Store<Host>,
    init: TypedFunc<i32, ()>,
    field_len: TypedFunc<(), i32>,
    raw_prime: TypedFunc<(), ()>,
    read: TypedFunc<i32, i32>,
    write: TypedFunc<(i32, i32), ()>,
    input_signal_size: TypedFunc<(i32, i32), i32>,
    set_input_signal: TypedFunc<(i32, i32, i32), ()>,
    input_size: TypedFunc<(), i32>,
    witness_size: TypedFunc<(), i32>,
    get_witness: TypedFunc<i32, ()>,
    /// The limits the store runs under, for errors.
    limits: Groth16Limits,
}

/// Drains circom's message buffer through its `getMessageChar` export.
fn take_message(caller: &mut Caller<'_, Host>) -> String {
    let Some(f) = caller
        .get_export("getMessageChar")
        .and_then(|e| e.into_func())
        .and_then(|f| f.typed::<(), i32>(&*caller).ok())
    else {
        return String::new();
    };
    let mut msg = String::new();
    // The bound guards against a module that never ends its message.
    for _ in 0..4096 {
        match f.call(&mut *caller, ()) {
            Ok(c) if c > 0 => msg.push(char::from(c as u8)),
            _ => break,
        }
    }
    msg
}

impl Runner {
    fn new(wasm: &[u8], limits: &Groth16Limits) -> Result<Self, BackendError> {
        let mut config = Config::default();
        config.consume_fuel(true);
        // Validation stays eager, translation happens per function on first call: a circom
        // module carries many functions (and large constant tables) that one run never uses.
        config.compilation_mode(wasmi::CompilationMode::LazyTranslation);
        let engine = Engine::new(&config);
        let module = Module::new(&engine, wasm)
            .map_err(|e| wasm_err(format!("not a WebAssembly module: {e}")))?;
        let host = Host {
            errors: String::new(),
            limiter: Limiter {
                memory_bytes: limits.wasm_memory_bytes,
                refused: None,
            },
        };
        let mut store = Store::new(&engine, host);
        store.limiter(|host| &mut host.limiter);
        store
            .set_fuel(limits.wasm_fuel)
            .map_err(|e| BackendError::Internal(e.to_string()))?;

        let mut linker = Linker::<Host>::new(&engine);
        let defined = linker
            .func_wrap(
                "runtime",
                "exceptionHandler",
                |_: Caller<'_, Host>, code: i32| -> Result<(), wasmi::Error> {
                    Err(wasmi::Error::i32_exit(code))
                },
            )
            .and_then(|l| {
                l.func_wrap("runtime", "printErrorMessage", |mut c: Caller<'_, Host>| {
                    let msg = take_message(&mut c);
                    let errors = &mut c.data_mut().errors;
                    // Circuits report once before they stop; a loop of reports is not kept.
                    if errors.len() < MAX_ERROR_TEXT {
                        errors.push_str(msg.trim_end());
                        errors.push('\n');
                    }
                })
            })
            .and_then(|l| {
                // log() output: drained so the buffer does not grow, and dropped.
                l.func_wrap(
                    "runtime",
                    "writeBufferMessage",
                    |mut c: Caller<'_, Host>| {
                        take_message(&mut c);
                    },
                )
            })
            .and_then(|l| l.func_wrap("runtime", "showSharedRWMemory", || {}))
            .map(|_| ());
        defined.map_err(|e| BackendError::Internal(e.to_string()))?;

        let instance = linker
            .instantiate(&mut store, &module)
            .and_then(|pre| pre.start(&mut store))
            .map_err(|e| {
                over_limit(&store, limits, &e)
                    .unwrap_or_else(|| wasm_err(format!("not a circom 2 witness generator: {e}")))
            })?;
        macro_rules! export {
            ($name:literal) => {
                instance.get_typed_func(&store, $name).map_err(|e| {
                    wasm_err(format!("not a circom 2 witness generator: {}: {e}", $name))
                })?
            };
        }
        Ok(Self {
            init: export!("init"),
            field_len: export!("getFieldNumLen32"),
            raw_prime: export!("getRawPrime"),
            read: export!("readSharedRWMemory"),
            write: export!("writeSharedRWMemory"),
            input_signal_size: export!("getInputSignalSize"),
            set_input_signal: export!("setInputSignal"),
            input_size: export!("getInputSize"),
            witness_size: export!("getWitnessSize"),
            get_witness: export!("getWitness"),
            store,
            limits: *limits,
        })
    }

    /// Calls an export, turning a trap into an error that says what the circuit reported.
    fn call<P: wasmi::WasmParams, R: wasmi::WasmResults>(
        &mut self,
        f: &TypedFunc<P, R>,
        params: P,
    ) -> Result<R, BackendError> {
        f.call(&mut self.store, params).map_err(|e| {
            if let Some(over) = over_limit(&self.store, &self.limits, &e) {
                return over;
            }
            let details = std::mem::take(&mut self.store.data_mut().errors);
            let details = details.trim();
            match e.i32_exit_status() {
                Some(4) => BackendError::WitnessUnsatisfied(format!(
                    "an assert in the circuit failed: {details}"
                )),
                Some(code) => {
                    let what = match code {
                        1 => "signal not found",
                        2 => "too many signals set",
                        3 => "signal already set",
                        5 => "not enough memory",
                        6 => "input signal array access exceeds the size",
                        7 => "out of bounds array access",
                        _ => "unknown error",
                    };
                    wasm_err(format!(
                        "witness generator failed ({code}: {what}) {details}"
                    ))
                }
                None => wasm_err(format!("witness generator trapped: {e}")),
            }
        })
    }

    fn check_field(&mut self) -> Result<(), BackendError> {
        let n32 = self.call(&self.field_len.clone(), ())?;
        self.call(&self.raw_prime.clone(), ())?;
        if n32 != 8 || self.read_shared()? != Fr::MODULUS {
            return Err(wasm_err("not compiled for BN254 (circom -p bn128)"));
        }
        Ok(())
    }

    /// Reads the 8 little-endian u32 words of the shared buffer.
    fn read_shared(&mut self) -> Result<BigInt<4>, BackendError> {
        let mut limbs = [0u64; 4];
        for (j, limb) in limbs.iter_mut().enumerate() {
            let lo = self.call(&self.read.clone(), 2 * j as i32)? as u32;
            let hi = self.call(&self.read.clone(), 2 * j as i32 + 1)? as u32;
            *limb = u64::from(lo) | (u64::from(hi) << 32);
        }
        Ok(BigInt::new(limbs))
    }

    fn write_shared(&mut self, v: &BigInt<4>) -> Result<(), BackendError> {
        for (j, limb) in v.0.iter().enumerate() {
            self.call(&self.write.clone(), (2 * j as i32, *limb as u32 as i32))?;
            self.call(
                &self.write.clone(),
                (2 * j as i32 + 1, (*limb >> 32) as u32 as i32),
            )?;
        }
        Ok(())
    }
}

/// The limit a failed instantiation or call ran into, if it was one.
fn over_limit(
    store: &Store<Host>,
    limits: &Groth16Limits,
    e: &wasmi::Error,
) -> Option<BackendError> {
    if let Some(asked) = store.data().limiter.refused {
        return Some(BackendError::over_limit(
            ArtifactRole::Wasm,
            format!(
                "the witness generator asks for {} MiB of memory, over the limit of {} MiB \
                 (Groth16Limits::wasm_memory_bytes)",
                mib(asked),
                mib(limits.wasm_memory_bytes)
            ),
        ));
    }
    (e.as_trap_code() == Some(TrapCode::OutOfFuel)).then(|| {
        BackendError::over_limit(
            ArtifactRole::Wasm,
            format!(
                "the witness generator ran past its {} instructions (Groth16Limits::wasm_fuel)",
                limits.wasm_fuel
            ),
        )
    })
}

/// circom's signal hash: FNV-1a 64 of the name, as (high, low) 32-bit halves.
fn fnv1a_halves(name: &str) -> (i32, i32) {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    ((h >> 32) as u32 as i32, h as u32 as i32)
}

/// `input.json` as `(signal name, values)`, arrays flattened row-major and nested objects
/// named `outer.inner` as circom's qualify_input does; values reduced modulo the field.
/// More bytes than `limits.max_input_bytes`, or more values than `limits.max_witness_len`
/// (each sets a wire), are [`BackendError::OverLimit`].
pub(crate) fn parse_inputs(
    bytes: &[u8],
    limits: &Groth16Limits,
) -> Result<Vec<(String, Vec<BigInt<4>>)>, BackendError> {
    let role = ArtifactRole::Input;
    check_count(
        role,
        "bytes",
        bytes.len(),
        limits.max_input_bytes,
        "max_input_bytes",
    )?;
    let v: Value =
        serde_json::from_slice(bytes).map_err(|e| input_err(format!("not JSON: {e}")))?;
    if !v.is_object() {
        return Err(input_err("input.json must be an object of signal names"));
    }
    let mut out = Vec::new();
    qualify("", &v, &mut out)?;
    let values = out.iter().map(|(_, v)| v.len()).sum();
    check_count(
        role,
        "values",
        values,
        limits.max_witness_len,
        "max_witness_len",
    )?;
    Ok(out)
}

fn qualify(
    prefix: &str,
    v: &Value,
    out: &mut Vec<(String, Vec<BigInt<4>>)>,
) -> Result<(), BackendError> {
    match v {
        Value::Object(map) => {
            for (k, inner) in map {
                let name = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                qualify(&name, inner, out)?;
            }
        }
        Value::Array(items) => {
            let mut flat = Vec::new();
            flatten(v, &mut flat);
            let objects = flat.iter().filter(|x| x.is_object()).count();
            if objects == 0 {
                let values = flat
                    .into_iter()
                    .map(|x| field_value(x, prefix))
                    .collect::<Result<_, _>>()?;
                out.push((prefix.to_string(), values));
            } else if objects == flat.len() {
                for (i, item) in items.iter().enumerate() {
                    qualify(&format!("{prefix}[{i}]"), item, out)?;
                }
            } else {
                return Err(input_err(format!("{prefix}: mixes objects and numbers")));
            }
        }
        _ => out.push((prefix.to_string(), vec![field_value(v, prefix)?])),
    }
    Ok(())
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|x| flatten(x, out)),
        _ => out.push(v),
    }
}

/// A number, a decimal string or a `0x` hex string, possibly negative, reduced mod r.
fn field_value(v: &Value, name: &str) -> Result<BigInt<4>, BackendError> {
    let bad = || input_err(format!("{name}: {v} is not an integer"));
    let n: SignedBig = match v {
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                SignedBig::from(u)
            } else {
                SignedBig::from(n.as_i64().ok_or_else(bad)?)
            }
        }
        // The conversion costs the square of the length: circom's inputs are below the modulus
        // (78 digits), and a generous bound keeps a long string from costing seconds.
        Value::String(s) if s.len() > MAX_VALUE_CHARS => {
            return Err(input_err(format!(
                "{name}: a {}-character number is too long",
                s.len()
            )))
        }
        Value::String(s) => {
            let s = s.trim();
            let (neg, digits) = match s.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, s),
            };
            let magnitude = match digits.strip_prefix("0x").or(digits.strip_prefix("0X")) {
                Some(hex) => BigUint::parse_bytes(hex.as_bytes(), 16),
                None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    BigUint::from_str(digits).ok()
                }
                None => None,
            }
            .ok_or_else(bad)?;
            SignedBig::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, magnitude)
        }
        _ => return Err(bad()),
    };
    let p = SignedBig::from(BigUint::from(Fr::MODULUS));
    let reduced = ((n % &p) + &p) % &p;
    let (_, mag) = reduced.into_parts();
    BigInt::<4>::try_from(mag).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_circom() {
        // FNV-1a 64 of "" is the offset basis; of "a" a published test vector.
        assert_eq!(
            fnv1a_halves(""),
            (0xcbf29ce4_u32 as i32, 0x84222325_u32 as i32)
        );
        assert_eq!(
            fnv1a_halves("a"),
            (0xaf63dc4c_u32 as i32, 0x8601ec8c_u32 as i32)
        );
    }

    #[test]
    fn inputs_flatten_and_normalise() {
        let got = parse_inputs(
            br#"{"a": 3, "k": [[2, "0x5"], ["-1", 11]], "s": {"x": ["7"]}}"#,
            &Groth16Limits::default(),
        )
        .unwrap();
        let names: Vec<_> = got.iter().map(|(n, v)| (n.as_str(), v.len())).collect();
        assert_eq!(names, [("a", 1), ("k", 4), ("s.x", 1)]);
        let k = &got[1].1;
        assert_eq!(k[1], BigInt::from(5u8));
        assert_eq!(Fr::from_bigint(k[2]).unwrap(), -Fr::from(1u8));
    }

    #[test]
    fn bad_inputs_are_errors() {
        for bad in [
            &b"[1]"[..],
            b"{\"a\": 1.5}",
            b"{\"a\": \"12z\"}",
            b"{\"a\": true}",
            b"{\"a\": [1, {\"b\": 2}]}",
            b"not json",
        ] {
            assert!(
                matches!(
                    parse_inputs(bad, &Groth16Limits::default()),
                    Err(BackendError::Malformed {
                        role: ArtifactRole::Input,
                        ..
                    })
                ),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_number_too_long_to_be_an_input_is_refused_unread() {
        let input = format!(r#"{{"a": "{}"}}"#, "7".repeat(MAX_VALUE_CHARS + 1));
        let err = parse_inputs(input.as_bytes(), &Groth16Limits::default()).unwrap_err();
        assert!(err.to_string().contains("too long"), "{err}");
        let input = format!(r#"{{"a": "{}"}}"#, "7".repeat(MAX_VALUE_CHARS));
        assert!(parse_inputs(input.as_bytes(), &Groth16Limits::default()).is_ok());
    }

    #[test]
    fn garbage_wasm_is_malformed() {
        let err = compute_witness(b"\0asm garbage", b"{}").unwrap_err();
        assert!(matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Wasm,
                ..
            }
        ));
    }
}
