//! A larger share of the machine for a compile that runs beside a busy server.
//!
//! `serve` started on baseline code compiles the optimized code in the same process while its
//! workers run requests on every core. The kernel shares the cores between runnable threads,
//! not between jobs, so a compile on one thread per core gets about half the machine under
//! full load and takes twice as long as it would alone (an 18 MB Python server: ~16 s to the
//! switch on 2 cores). Compiling the functions on several threads per core gives the compile
//! most of the machine for the few seconds it runs; the server keeps all its workers, so no
//! request waits for a free slot, and the optimized code (2-3x the throughput) arrives sooner.

/// Threads per core the compile's functions are spread over.
const THREADS_PER_CORE: usize = 4;

/// Runs `compile` with wasmtime's parallel function compiles on a pool of [`THREADS_PER_CORE`]
/// threads per core (instead of rayon's one per core); on the caller's pool if that pool cannot
/// be made.
pub(crate) fn with_larger_share<T: Send>(compile: impl FnOnce() -> T + Send) -> T {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cores * THREADS_PER_CORE)
        .thread_name(|i| format!("morph-optimize-{i}"))
        .build();
    match pool {
        Ok(pool) => {
            tracing::info!(
                "compiling the optimized code on {} threads ({THREADS_PER_CORE} per core)",
                pool.current_num_threads()
            );
            pool.install(compile)
        }
        Err(e) => {
            tracing::debug!("compiling on the shared pool ({e})");
            compile()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compile_runs_on_several_threads_per_core() {
        let cores = std::thread::available_parallelism().unwrap().get();
        let (threads, names) = with_larger_share(|| {
            use rayon::prelude::*;
            let names: Vec<String> =
                (0..64).into_par_iter().map(|_| std::thread::current().name().unwrap_or("").to_string()).collect();
            (rayon::current_num_threads(), names)
        });
        assert_eq!(threads, cores * THREADS_PER_CORE);
        assert!(names.iter().all(|n| n.starts_with("morph-optimize-")), "{names:?}");
    }
}
