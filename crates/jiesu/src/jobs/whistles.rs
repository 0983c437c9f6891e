//! The whistle sweep (吹哨报到): marks each summoned unit that has not reported by its report
//! deadline, once, with a system event (`whistle.report_overdue`). Deadlines are data, so a
//! restart or a second node sweeping at once loses or doubles nothing.

use crate::services::AppState;
use crate::store::{requests, whistles, NewEvent};

/// Marks the summoned units past their report deadline; returns how many it marked.
pub async fn sweep_whistle_reports(state: &AppState) -> anyhow::Result<usize> {
    let now = state.clock.now();
    let mut marked = 0;
    for w in whistles::due_unmarked(state.store.reader(), now, 500).await? {
        let mut tx = state.store.begin().await?;
        let Some(task) = requests::lock(&mut tx, &w.task_id).await? else {
            continue;
        };
        // Re-checked under the task's lock: a report or another node's mark wins.
        if !whistles::mark_late(&mut tx, &w.assignment_id, now).await? {
            continue;
        }
        tx.event(NewEvent {
            jurisdiction: task.jurisdiction.clone(),
            request_id: Some(w.task_id.clone()),
            assignment_id: Some(w.assignment_id.clone()),
            actor_id: "system".into(),
            actor_role: "system".into(),
            action: "whistle.report_overdue".into(),
            before: None,
            after: None,
            payload: serde_json::json!({
                "unit_code": w.unit_code, "whistle_unit": w.whistle_unit, "report_by": w.report_by, "marked_at": now,
            }),
            at: now,
        });
        tx.commit().await?;
        marked += 1;
    }
    Ok(marked)
}
