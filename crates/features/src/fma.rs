//! One dispatch for the kernels' hot loops: run the loop compiled with hardware FMA when the CPU has
//! it. `f64::mul_add` is exactly rounded on every target, so both paths give the same bits (the
//! exactness tests hold either way); with the `fma` feature it is one instruction instead of a
//! libm call, which is most of a kernel's time. The EMA, ATR and MACD loops use it.

/// Defines `fn $name(args) -> ret` that calls `$body(args)` compiled with `target_feature(fma)`
/// when the running x86-64 CPU has FMA, and the plain `$body` otherwise. `$body` should be
/// `#[inline(always)]` so that each path gets its own copy of the loop.
macro_rules! fma_dispatch {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty => $body:ident) => {
        $(#[$doc])*
        fn $name($($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma")]
                fn with_fma($($arg: $ty),*) -> $ret {
                    $body($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU supports FMA, checked just above.
                    return unsafe { with_fma($($arg),*) };
                }
            }
            $body($($arg),*)
        }
    };
}

pub(crate) use fma_dispatch;
