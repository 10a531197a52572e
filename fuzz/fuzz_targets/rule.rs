//! Rule compile + evaluate (the `rapport eval` line format): no input may panic or hang.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        let _ = rapport::rules::eval_line(line);
    }
});
