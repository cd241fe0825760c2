//! `ferrokv-server`: a Redis-compatible server. Takes redis-server's command
//! line and configuration file syntax.

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(ferrokv_server::main_with(&args));
}
