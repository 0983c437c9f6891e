//! The monthly report (月度通报) as an xlsx workbook in the shape offices circulate, with
//! Chinese headers: the street/township ranking with classes, rates by district, volume by
//! category, overdue orders, and month-over-month changes.

use super::kpi::{self, Level, Month, Ranking, UnitRanking};
use super::AppState;
use crate::error::AppError;
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use std::collections::BTreeMap;

fn class_zh(u: &UnitRanking) -> &'static str {
    use jiesu_core::kpi::RankClass::*;
    match u.class {
        Some(Leading) => "先进类",
        Some(Improving) => "进步类",
        Some(Rectify) => "整改类",
        Some(PriorityGovernance) => "治理类",
        None => "",
    }
}

fn xlsx(e: XlsxError) -> AppError {
    AppError::Internal(anyhow::anyhow!("xlsx: {e}"))
}

fn header(ws: &mut Worksheet, cols: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (i, h) in cols.iter().enumerate() {
        ws.write_string_with_format(0, i as u16, *h, &bold)?;
        ws.set_column_width(i as u16, if i == 1 { 28 } else { 12 })?;
    }
    ws.set_freeze_panes(1, 0)?;
    Ok(())
}

fn rate(ws: &mut Worksheet, row: u32, col: u16, v: Option<f64>) -> Result<(), XlsxError> {
    match v {
        Some(v) => ws
            .write_number_with_format(row, col, v, &Format::new().set_num_format("0.00%"))
            .map(|_| ()),
        None => ws.write_string(row, col, "—").map(|_| ()),
    }
}

fn ranking_sheet(ws: &mut Worksheet, r: &Ranking) -> Result<(), XlsxError> {
    header(
        ws,
        &[
            "排名",
            "单位名称",
            "单位编码",
            "响应率",
            "解决率",
            "满意率",
            "综合成绩",
            "上月排名",
            "类别",
            "诉求量",
            "派单量",
            "回访量",
        ],
    )?;
    for (i, u) in r.units.iter().enumerate() {
        let row = i as u32 + 1;
        match u.rank {
            Some(n) => ws.write_number(row, 0, n as f64)?,
            None => ws.write_string(row, 0, "未排名")?,
        };
        ws.write_string(row, 1, &u.name)?;
        ws.write_string(row, 2, &u.code)?;
        rate(ws, row, 3, u.response_rate)?;
        rate(ws, row, 4, u.resolution_rate)?;
        rate(ws, row, 5, u.satisfaction_rate)?;
        ws.write_number_with_format(row, 6, u.composite, &Format::new().set_num_format("0.00"))?;
        if let Some(p) = u.previous_rank {
            ws.write_number(row, 7, p as f64)?;
        }
        ws.write_string(row, 8, class_zh(u))?;
        ws.write_number(row, 9, u.volume as f64)?;
        ws.write_number(row, 10, u.dispatched as f64)?;
        ws.write_number(row, 11, u.called_back as f64)?;
    }
    Ok(())
}

async fn ranking(state: &AppState, month: Month, level: Level) -> Result<Ranking, AppError> {
    let json = kpi::ranking_json(state, month, level).await?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))
}

/// Builds the month's workbook.
pub async fn monthly_xlsx(state: &AppState, month: Month) -> Result<Vec<u8>, AppError> {
    let streets = ranking(state, month, Level::Subdistrict).await?;
    let districts = ranking(state, month, Level::District).await?;
    let pool = state.store.reader();
    let (from, to) = (
        state.config.local_midnight(month.first_day()),
        state.config.local_midnight(month.next().first_day()),
    );
    // The names in force at the month's end (a category renamed since keeps its old name).
    let names = crate::store::categories::names_at(
        pool,
        state.clock.now().min(to) - chrono::Duration::milliseconds(1),
    )
    .await?;
    let mut by_category: BTreeMap<String, i64> = BTreeMap::new();
    for (code, n) in crate::store::requests::volume_by_category(pool, from, to).await? {
        let top = code
            .as_deref()
            .and_then(|c| c.split('.').next())
            .map(|c| {
                names
                    .get(c)
                    .map(|n| n.0.clone())
                    .unwrap_or_else(|| c.to_string())
            })
            .unwrap_or_else(|| "未分类".into());
        *by_category.entry(top).or_default() += n;
    }
    let overdue =
        crate::store::assignments::overdue(pool, state.clock.now().min(to), "/", 5000).await?;

    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("街乡镇排名").map_err(xlsx)?;
    ranking_sheet(ws, &streets).map_err(xlsx)?;
    let ws = wb.add_worksheet().set_name("各区三率").map_err(xlsx)?;
    ranking_sheet(ws, &districts).map_err(xlsx)?;
    let ws = wb.add_worksheet().set_name("分类诉求量").map_err(xlsx)?;
    header(ws, &["一级分类", "诉求量"]).map_err(xlsx)?;
    let mut sorted: Vec<_> = by_category.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    for (i, (name, n)) in sorted.iter().enumerate() {
        ws.write_string(i as u32 + 1, 0, name).map_err(xlsx)?;
        ws.write_number(i as u32 + 1, 1, *n as f64).map_err(xlsx)?;
    }
    let ws = wb.add_worksheet().set_name("超期工单").map_err(xlsx)?;
    header(
        ws,
        &[
            "工单号",
            "承办单位",
            "角色",
            "轮次",
            "状态",
            "签收时限",
            "办结时限",
        ],
    )
    .map_err(xlsx)?;
    let local = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&state.config.offset())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    for (i, a) in overdue.iter().enumerate() {
        let row = i as u32 + 1;
        for (c, v) in [
            a.id.clone(),
            a.unit_code.clone(),
            a.role.as_str().to_string(),
            a.round.to_string(),
            a.status.as_str().to_string(),
            local(a.acknowledge_by),
            local(a.reply_by),
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(row, c as u16, v).map_err(xlsx)?;
        }
    }
    let ws = wb.add_worksheet().set_name("环比变化").map_err(xlsx)?;
    header(
        ws,
        &[
            "本月排名",
            "单位名称",
            "单位编码",
            "本月综合成绩",
            "上月排名",
            "名次变化",
        ],
    )
    .map_err(xlsx)?;
    for (i, u) in streets
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .enumerate()
    {
        let row = i as u32 + 1;
        let rank = u.rank.unwrap_or_default();
        ws.write_number(row, 0, rank as f64).map_err(xlsx)?;
        ws.write_string(row, 1, &u.name).map_err(xlsx)?;
        ws.write_string(row, 2, &u.code).map_err(xlsx)?;
        ws.write_number(row, 3, u.composite).map_err(xlsx)?;
        if let Some(p) = u.previous_rank {
            ws.write_number(row, 4, p as f64).map_err(xlsx)?;
            ws.write_number(row, 5, p as f64 - rank as f64)
                .map_err(xlsx)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx)
}

/// One ranking as a one-sheet workbook.
pub fn ranking_xlsx(r: &Ranking) -> Result<Vec<u8>, AppError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet().set_name("排名").map_err(xlsx)?;
    ranking_sheet(ws, r).map_err(xlsx)?;
    wb.save_to_buffer().map_err(xlsx)
}
