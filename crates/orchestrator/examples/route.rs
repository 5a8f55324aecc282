//! Standalone use of talab-orchestrator without the CLI: check what this machine has configured
//! (keys from the environment, `claude` on PATH), then show where each kind of task would go.
//!
//! Run with `cargo run -p talab-orchestrator --example route`.

use talab_orchestrator::{EnvironmentConfig, PreferenceTable, Task, TaskType, route, validate_environment};

fn main() {
    let cfg = EnvironmentConfig::from_env();
    let status = validate_environment(&cfg);
    println!("platforms:");
    for (platform, s) in &status {
        let state = if s.usable() { "ready" } else { "not configured" };
        println!("  {platform:<12} {state:<15} {}", s.message);
    }

    let table = PreferenceTable::default();
    println!("\nrouting:");
    for &task_type in TaskType::ALL {
        let task = Task::new(task_type, "example");
        let decision = route(&table, &task, |p| match &status[&p] {
            s if s.usable() => Ok(()),
            s => Err(s.message.clone()),
        });
        match decision {
            Ok(d) => {
                let order: Vec<String> = d.candidates.iter().map(|p| p.to_string()).collect();
                println!("  {task_type:<16} -> {}", order.join(", "));
            }
            Err(e) => println!("  {task_type:<16} -> {e}"),
        }
    }
}
