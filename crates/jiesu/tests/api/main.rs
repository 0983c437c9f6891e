//! The integration tests: the real app (`App::build`, as `jiesu serve` builds it) on port 0,
//! against SQLite and PostgreSQL, driven over HTTP. Each story runs on both backends.

mod helpers;
mod kannel;
mod proactive;
mod stories;
mod ui;
mod ui_callers;
mod ui_kb;

use helpers::Backend;

macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $story() { crate::stories::$story(crate::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $story() { crate::stories::$story(crate::Backend::Postgres).await } )*
        }
    };
}

on_both_backends!(
    // stories/attachments.rs (issue 20: photos, recordings, evidence rules)
    a_photo_with_gps_uploaded_at_the_portal_is_stored_without_it_and_shown_as_a_thumbnail,
    a_heic_photo_from_a_phone_is_kept_as_a_jpeg_without_its_place,
    a_reply_in_an_evidence_category_needs_a_photo_and_other_units_get_404_for_it,
    a_200_mb_upload_is_refused_unread_and_a_renamed_executable_by_its_type,
    two_nodes_serve_the_same_attachment_with_ranges,
    a_scan_command_refuses_a_file_and_leaves_an_event,
    a_request_page_reads_its_files_in_the_snapshot_of_its_timeline,
    // stories/maps.rs (issue 20: places on a map)
    located_requests_are_stored_in_wgs84_placed_in_their_district_and_drawn_on_the_maps,
    open311_coordinates_in_baidu_datum_are_stored_in_wgs84,
    a_map_point_decides_the_district_of_the_suggested_place,
    the_portal_pins_a_place_and_the_request_page_shows_it,
    the_dashboard_opens_on_the_last_complete_month_filters_its_ranking_and_maps_districts,
    the_dashboard_ranking_pages_thirty_units_at_a_time,
    // stories/client_keys.rs (issue 21: a request sent again is made once)
    a_request_sent_again_with_its_key_is_made_once,
    a_desk_or_portal_form_sent_twice_makes_one_request,
    // stories/failover.rs (issue 21: several nodes, failover)
    a_job_runs_on_one_node_at_a_time_and_the_next_takes_over_when_it_lets_go,
    // stories/sms.rs (issue 19: SMS through Kannel)
    requester_texts_go_through_kannel_and_ratings_come_back_by_sms,
    sms_rules_and_templates_hold_back_what_they_must,
    // stories/sms_changes.rs (issue 19: change-of-handling texts, unit quiet hours, privacy)
    a_merge_a_new_unit_and_an_extension_each_text_the_requester_once,
    each_unit_keeps_its_own_quiet_hours_for_reminders,
    the_privacy_job_clears_texts_from_requesters_and_keeps_opt_outs,
    admins_edit_sms_templates_on_their_page,
    a_gateway_down_for_a_minute_loses_nothing_and_sends_each_text_once,
    a_text_whose_answer_was_lost_is_not_sent_again_once_kannel_reports_it,
    // stories/sms_units.rs (issue 19: reminders to units, 催办)
    units_are_chased_by_sms_through_kannel_once_per_order_and_kind,
    unit_reminders_wait_for_the_morning_and_keep_to_the_hourly_cap,
    // stories/subwork.rs (issue 18: 下派 and 签批)
    an_order_passed_down_two_levels_is_sent_back_once_signed_off_up_the_chain_and_closes,
    a_unit_that_requires_signoff_holds_a_handlers_reply_for_its_manager,
    a_child_order_asks_for_time_runs_late_is_returned_and_passed_to_another_community,
    // stories/city.rs (issue 18: another city in minutes)
    guangzhou_is_built_by_init_and_a_request_lives_its_whole_life_there,
    guangzhou_communities_come_from_the_national_village_file,
    another_city_keeps_unit_history_names_itself_and_simulates_a_month,
    // stories/lifecycle.rs
    a_request_lives_its_whole_life_through_return_extension_rework_and_close,
    two_people_acting_at_once_one_wins_the_other_gets_409,
    // stories/access.rs
    other_units_cannot_see_or_touch_an_order,
    logins_are_slowed_after_repeated_failures_and_tokens_end_at_logout,
    phone_numbers_are_masked_and_confidential_requesters_hidden_from_units,
    // stories/visibility.rs
    units_see_their_own_part_and_missing_ids_answer_as_forbidden_ones,
    // stories/logins.rs (issue 16: logins, users, CSRF)
    parallel_wrong_passwords_are_counted_atomically_and_lock_out_only_their_source,
    unknown_wrong_and_disabled_logins_get_the_same_answers_and_admin_stays_reachable,
    a_flood_of_logins_waits_for_a_few_password_checks_or_is_turned_away,
    administrators_disable_enable_reset_and_revoke_and_each_is_an_event_with_its_actor,
    sessions_end_when_idle_and_the_purge_deletes_expired_and_idle_ones,
    cookie_api_writes_need_the_csrf_token_and_cookies_are_secure_over_https,
    the_pre_login_csrf_secret_is_issued_by_the_server,
    // stories/api_contract.rs
    bad_input_gets_a_clear_4xx_and_changes_nothing,
    openapi_describes_every_route,
    readiness_follows_the_database_and_liveness_does_not,
    // stories/intake.rs
    intake_suggests_category_place_units_duplicates_and_answers_and_measures_itself,
    a_trained_model_drives_the_category_suggestions,
    // stories/dispatch.rs
    deadlines_are_marked_once_by_the_sweep_and_listed_for_supervision,
    dispatch_disputes_are_listed_and_arbitrated_and_the_decision_holds,
    // stories/callbacks.rs
    consultations_are_answered_at_intake_and_duplicates_merged_with_their_own_callback,
    unreachable_requesters_close_after_the_allowed_attempts,
    // stories/outbox.rs
    outbox_messages_survive_a_restart_and_are_retried_with_backoff,
    the_webhook_sender_posts_each_message_and_retries_on_failure,
    the_outbox_hands_messages_to_the_gateway_several_at_a_time,
    the_outbox_writes_nothing_for_a_request_without_a_phone,
    // stories/kb_keeping.rs
    imported_entries_are_searched_and_drafts_only_by_their_unit_and_the_center,
    a_city_imports_reviews_and_publishes_200000_entries,
    operators_rate_answers_and_stale_entries_are_flagged,
    // stories/knowledge.rs
    supervisors_keep_the_knowledge_base_and_operators_answer_from_it,
    the_dispatch_catalogue_ships_rules_and_keeps_their_history,
    search_finds_requests_and_answers_follows_the_event_log_and_rebuilds,
    // stories/ranking.rs
    a_scripted_month_gives_hand_computed_rates_ranks_and_a_reproducible_frozen_ranking,
    // stories/callers.rs (issue 23: the caller's history, 催办, 恶意来电)
    a_second_call_from_the_same_number_attaches_as_a_reminder_to_the_open_request,
    an_abusive_caller_mark_shows_until_it_expires_and_blocks_nothing,
    an_expired_abusive_caller_mark_loses_its_number_to_the_retention_job,
    // stories/whistles.rs (issue 18: 吹哨报到)
    a_whistle_on_three_departments_counts_one_late_report,
    // stories/community.rs (issue 18: 小事不出社区)
    a_request_solved_on_the_spot_is_called_back_and_counted_apart,
    // stories/reply_reviews.rs (issue 18: 办结审核)
    a_checked_category_holds_the_reply_until_the_center_approves,
    // stories/appeals.rs
    appeals_granted_and_refused_show_in_the_frozen_months_rates_and_counts,
    a_granted_appeal_takes_a_failure_off_the_unsatisfied_list,
    // stories/returns.rs (issue 18: 退单审核)
    an_accepted_return_goes_back_to_dispatch_and_another_unit_takes_it,
    a_rejected_return_stays_with_the_unit_which_reads_why_and_replies,
    // stories/rollups.rs
    kpi_rollups_agree_with_a_full_recount_through_every_kind_of_change,
    // stories/simulator.rs
    the_simulator_lives_days_through_the_services_deterministically,
    // stories/learning.rs
    a_model_trained_from_the_history_suggests_the_fine_category_and_unit,
    a_worse_candidate_is_not_promoted_and_a_rollback_restores_the_previous_model,
    the_retraining_job_trains_one_model_a_period_across_the_nodes,
    a_simulated_month_has_appeals_filed_and_decided,
    // stories/durability.rs
    audit_verify_passes_and_names_the_first_edited_or_removed_event,
    a_request_page_reads_one_snapshot_and_never_half_a_write,
    a_personal_data_export_reads_one_snapshot,
    concurrent_writes_are_all_durable_and_refusals_leave_nothing,
    writes_at_once_link_a_suggestion_once_and_give_way_when_another_node_wrote,
    // proactive.rs (hotspots, tasks, topics, bursts)
    hotspots_group_a_repeated_problem_and_a_task_on_it_is_handled_found_elsewhere_and_made_a_topic,
    bad_proactive_input_gets_422_naming_the_field,
    a_burst_at_one_street_raises_an_alert_with_its_reason,
    a_second_node_follows_the_other_nodes_intakes_into_its_hotspots_and_duplicates,
    the_dashboard_puts_a_question_many_ask_apart_from_a_problem_at_one_place,
    // stories/audit.rs (issue 16: audit trail and privacy)
    audit_verify_names_hand_edits_and_a_rehashed_chain,
    requesters_are_redacted_after_the_retention_and_exported_on_request,
    the_data_folder_and_its_files_are_private,
    // stories/public_edge.rs (issue 16: tracking, limits, merges)
    tracking_takes_the_query_code_and_locks_a_guessed_number_on_every_node,
    per_address_limits_answer_429_with_retry_after_and_the_portal_takes_small_forms,
    opposite_merges_raced_in_pairs_have_one_winner_and_lose_no_request,
    the_portal_links_files_with_a_grant_never_the_query_code,
    // stories/input.rs (issue 16: bounded input)
    extreme_dates_months_and_numbers_are_refused_with_422_naming_the_field,
    control_characters_are_refused_naming_the_field_and_long_texts_are_limited,
    // stories/conventions.rs (issue 17: compression, CSV BOM, exports, JSON error paths)
    answers_are_compressed_and_csv_exports_open_in_excel,
    request_lists_export_as_csv_and_xlsx_with_their_filters_and_scope,
    json_errors_name_the_fields_whole_path,
    // stories/metrics.rs (issue 17: metrics and logs)
    metrics_count_intakes_and_routes_and_answer_only_this_host,
    a_metrics_token_is_required_when_set_and_every_answer_has_a_request_id,
    // stories/open311.rs (issue 17: Open311 GeoReport v2)
    open311_clients_create_and_read_requests_in_json_and_xml,
    open311_refuses_bad_input_bad_keys_unknown_services_and_floods,
    open311_rows_with_and_without_coordinates_share_a_connection,
    // stories/calendar.rs (issue 18: the working-day calendar)
    a_holiday_week_pushes_working_day_deadlines_and_admins_add_next_years_days,
    // stories/units.rs (issue 18: units as managed data)
    a_unit_added_and_renamed_at_run_time_takes_orders_and_merges_and_closes_keep_history,
    units_export_and_import_as_csv_and_xlsx_with_counts_events_and_named_bad_rows,
    // stories/unit_dates.rs (issue 18: dated unit changes, every node follows them)
    a_unit_change_dated_ahead_waits_for_its_day_and_a_bad_day_is_named,
    a_unit_added_on_one_node_is_resolved_on_another_and_a_move_reaches_the_search_index,
    a_unit_change_dated_ahead_is_cancelled_before_its_day_and_never_applies,
    an_administrator_changes_a_time_limit_as_a_new_version_and_running_orders_keep_theirs,
    // stories/categories.rs (issue 18: categories as managed data)
    a_category_added_at_run_time_takes_requests_at_once_and_changes_with_versions,
    a_renamed_category_keeps_its_old_name_in_its_old_month,
    categories_export_and_import_as_csv_and_xlsx_all_or_nothing_with_named_bad_rows,
    a_category_dated_ahead_takes_requests_on_its_day_and_rules_need_an_active_category,
    // stories/catalogue_cli.rs (issue 18: the dispatch catalogue through the CLI)
    the_dispatch_catalogue_exports_and_imports_through_the_cli_with_events_and_named_bad_rows,
    // stories/limits_cli.rs (issue 18: time limits through the CLI)
    time_limits_export_and_import_through_the_cli_as_new_versions_with_named_bad_rows,
    // stories/kpi_rules_cli.rs (issue 18: KPI rules through the CLI)
    kpi_rules_export_and_import_through_the_cli_as_new_versions_with_named_bad_rows,
    // stories/users_cli.rs (issue 18: users through the CLI)
    users_export_and_import_through_the_cli_with_one_time_passwords_events_and_named_bad_rows,
);

/// The web pages' stories (`ui.rs`), each on SQLite and PostgreSQL.
macro_rules! ui_on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod ui_sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $story() { crate::ui::$story(crate::Backend::Sqlite).await } )*
        }
        mod ui_postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $story() { crate::ui::$story(crate::Backend::Postgres).await } )*
        }
    };
}

ui_on_both_backends!(
    // issue 23: the caller's history at the desk
    the_desk_shows_the_callers_history_and_records_a_reminder,
    // issue 23: the knowledge base's pages and the desk's verdict
    a_street_drafts_an_entry_the_center_reviews_and_publishes_it_and_the_desk_rates_it,
    the_center_imports_and_exports_entries_from_the_kb_page,
    // issue 18: 下派 and 签批
    a_street_passes_down_from_its_order_page_and_signs_off_on_its_workbench,
    a_community_asks_for_time_and_returns_from_its_child_order_page_and_the_street_decides,
    the_login_page_renders_and_a_login_sets_the_session_cookie,
    a_form_post_without_the_csrf_token_is_refused,
    a_unit_handler_opening_another_units_request_gets_the_missing_page,
    viewing_the_dispatch_form_writes_nothing,
    user_text_is_escaped_on_every_page,
    citizens_track_a_request_only_with_its_query_code,
    intake_answers_merges_or_dispatches_in_one_click,
    a_supervisor_goes_from_a_hotspot_to_tasks_here_and_elsewhere_and_a_monthly_topic,
    unit_staff_and_dispatchers_cannot_open_tasks_or_topics_from_the_pages,
    a_burst_alert_on_the_governance_page_opens_a_task_with_its_requests,
    the_admin_page_manages_users_and_each_change_names_the_administrator,
    a_unit_manager_appeals_from_the_workbench_and_the_center_grants_on_its_page,
    // issue 18: the round-1 order after a rework, appealed from the replied list
    a_round_one_order_after_a_rework_is_appealed_from_the_replied_list,
    // issue 18: 办结审核 page
    the_center_checks_a_reply_on_its_page_and_sends_it_back_then_approves,
    // issue 18: 小事不出社区 page
    a_community_records_a_request_solved_on_the_spot_from_its_page,
    // issue 18: 吹哨报到 page
    a_street_summons_departments_from_its_page_and_one_reports,
    a_login_next_with_line_breaks_falls_back_and_a_nul_in_a_form_is_refused,
    the_admin_page_makes_and_revokes_open311_keys,
    // issue 18: units as managed data
    the_admin_page_adds_edits_merges_and_closes_units,
    a_return_is_reviewed_on_the_dispatch_page_and_a_rejection_shows_on_the_unit_page,
    the_admin_page_lists_the_holidays_and_sets_a_day,
    // issue 18: admin pages for time limits and 签批
    the_admin_page_adds_a_time_limit_version_and_switches_signoff_and_reply_review,
    the_admin_page_adds_and_edits_categories_with_effective_dates,
);

mod cli_conventions;
mod hotspots_cli;
mod logs;
mod schema_parity;
mod serving;

/// A model folder that exists but does not load stops the start with a clear error, rather
/// than serving wrong suggestions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_write_refused_as_read_only_is_a_failover_and_the_host_not_writable() {
    stories::a_write_refused_as_read_only_is_a_failover_and_the_host_not_writable().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_nodes_started_at_once_on_a_new_database_all_start_with_one_admin() {
    stories::nodes_started_at_once_on_a_new_database_all_start_with_one_admin().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reports_read_the_primary_when_no_standby_answers() {
    stories::reports_read_the_primary_when_no_standby_answers().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_database_url_listing_a_dead_host_first_is_served_by_the_live_one() {
    stories::a_database_url_listing_a_dead_host_first_is_served_by_the_live_one().await
}

#[tokio::test]
async fn a_corrupt_model_folder_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("model")).unwrap();
    std::fs::write(dir.path().join("model").join("model.bin"), b"not a model").unwrap();
    std::fs::write(dir.path().join("model").join("metrics.json"), b"{}").unwrap();
    let mut config = jiesu::config::Config::from_env().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.database_url = None;
    config.model_dir = None;
    let err = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock))
        .await
        .err()
        .expect("start refused");
    let msg = err.to_string();
    assert!(
        msg.contains("model folder") && msg.contains("does not load"),
        "{msg}"
    );
}

/// `jiesu text place` and `jiesu text dupes` print JSON a script can use.
#[test]
fn the_text_commands_print_places_and_duplicate_groups() {
    let bin = crate::helpers::cli_bin();
    let out = std::process::Command::new(&bin)
        .args(["text", "place", "海淀区中关村大街停车难"])
        .env("JIESU_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "resolved");
    assert_eq!(v["district"]["code"], "110108");

    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("m.csv");
    std::fs::write(&csv, "no,body,grp\n1,望京西园三区工地夜间施工噪音扰民，凌晨两点还在施工,a\n2,望京西园三区工地夜间施工噪音扰民，凌晨三点还在施工！,a\n3,公交车晚点严重，等了一个小时,b\n").unwrap();
    let out = std::process::Command::new(&bin)
        .args([
            "text",
            "dupes",
            "--input",
            csv.to_str().unwrap(),
            "--id-column",
            "no",
            "--text-column",
            "body",
            "--gold",
            "grp",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["groups"], serde_json::json!([["1", "2"]]));
    assert_eq!(v["scores"]["precision"], 1.0);
    assert_eq!(v["scores"]["recall"], 1.0);
    let out = std::process::Command::new(&bin)
        .args(["text", "dupes", "--input", csv.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no column id"));
}
