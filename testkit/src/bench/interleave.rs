//! Interleaved timing, shared by the benches: ratios to a baseline measured in the same run.

/// Runs every operation in interleaved rounds: each round times a batch of each one back to
/// back, in a rotating order, so that the drift of a shared machine hits them alike. Returns the
/// median ns/op of each, and the median of the per-round ratios to `base`.
pub fn interleaved(ops: &mut [(&str, &mut dyn FnMut())], base: usize) -> Vec<(String, f64, f64)> {
    interleaved_with(ops, base, 41, 1000)
}

/// [`interleaved`] with the number of rounds and the batch size, for slow operations.
pub fn interleaved_with(
    ops: &mut [(&str, &mut dyn FnMut())],
    base: usize,
    rounds: usize,
    batch: u32,
) -> Vec<(String, f64, f64)> {
    let times = rounds_of(ops, rounds, batch);
    rows(ops, &times, base)
}

/// [`interleaved`], with the ratios to each of `bases` from the same rounds.
pub fn interleaved_against(
    ops: &mut [(&str, &mut dyn FnMut())],
    bases: &[usize],
) -> Vec<Vec<(String, f64, f64)>> {
    let times = rounds_of(ops, 41, 1000);
    bases.iter().map(|&base| rows(ops, &times, base)).collect()
}

/// The ns/op of every operation in every round.
fn rounds_of(ops: &mut [(&str, &mut dyn FnMut())], rounds: usize, batch: u32) -> Vec<Vec<f64>> {
    let n = ops.len();
    let mut times = vec![Vec::with_capacity(rounds); n];
    for round in 0..rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let start = std::time::Instant::now();
            for _ in 0..batch {
                (ops[i].1)();
            }
            times[i].push(start.elapsed().as_secs_f64() * 1e9 / f64::from(batch));
        }
    }
    times
}

/// The median ns/op of each operation, and the median of its per-round ratios to `base`.
fn rows(
    ops: &[(&str, &mut dyn FnMut())],
    times: &[Vec<f64>],
    base: usize,
) -> Vec<(String, f64, f64)> {
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    ops.iter()
        .zip(times)
        .map(|((name, _), own)| {
            let ratios = own.iter().zip(&times[base]).map(|(t, b)| t / b).collect();
            ((*name).to_owned(), median(own.clone()), median(ratios))
        })
        .collect()
}

/// Prints `rows` as a Markdown table: operation, row, ns/op, ratio, baseline.
pub fn print_rows(operation: &str, base: &str, rows: &[(String, f64, f64)]) {
    for (name, ns, ratio) in rows {
        println!("| {operation} | {name} | {ns:.0} | {ratio:.2}x | {base} |");
    }
}
