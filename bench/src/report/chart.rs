//! The SVG chart: throughput of every pair relative to tonic->tonic per cell (bars, with
//! the round-to-round range and the PERF.md floors), unary latency p50/p99 per pair, and,
//! when h2load ran, its requests per second per server (grpc-go included) per h2load cell.

use super::Ratio;
use crate::driver::{H2Cell, Results};
use crate::h2load::{H2Load, H2Server};
use crate::load::Kind;
use crate::{Pair, Side};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// Draws the chart into `path`: the pair panels when pairs ran, the h2load panel when
/// h2load ran.
pub fn draw(results: &Results, _ratios: &[Ratio], path: &Path) -> Result<(), String> {
    let h2cells: &[H2Cell] = results.h2load.as_deref().unwrap_or(&[]);
    let mut cell_names: Vec<String> = results.cells.iter().map(|c| c.cell_name()).collect();
    cell_names.dedup();
    let w = (240 + 70 * cell_names.len().max(4) as u32).max(900);
    let main_height = if results.cells.is_empty() && !h2cells.is_empty() {
        0
    } else {
        PAIRS_PANELS
    };
    let h2_height = if h2cells.is_empty() { 0 } else { H2_PANEL };
    let h = main_height + h2_height + 20;
    let root = SVGBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (main, rest) = root.split_vertically(main_height);
    if main_height > 0 {
        pair_panels(&main, results, w)?;
    }
    if h2_height > 0 {
        h2load_panel(&rest, h2cells, w)?;
    }
    let note = ("sans-serif", 12).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Bottom));
    root.draw(&Text::new(format!("pinning: {}", results.pinning), (10, h as i32 - 6), note))
        .map_err(err)?;
    root.present().map_err(err)?;
    Ok(())
}

/// Height of the two pair panels (throughput ratios, unary latency).
const PAIRS_PANELS: u32 = 1000;

/// The throughput-ratio and latency panels of the pairs, on `root` (at the top left of the
/// chart, so backend coordinates are its own).
fn pair_panels<DB: DrawingBackend>(root: &DrawingArea<DB, plotters::coord::Shift>, results: &Results, w: u32) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let mut pairs: Vec<Pair> = results.cells.iter().map(|c| c.pair).collect();
    pairs.sort();
    pairs.dedup();
    if let Some(i) = pairs.iter().position(|p| *p == Pair::BASELINE) {
        let base = pairs.remove(i);
        pairs.insert(0, base);
    }
    let mut cells: Vec<String> = Vec::new();
    for c in &results.cells {
        if !cells.contains(&c.cell_name()) {
            cells.push(c.cell_name());
        }
    }
    let unary: Vec<String> = cells
        .iter()
        .filter(|n| results.cells.iter().any(|c| &c.cell_name() == *n && c.spec.kind == Kind::Unary))
        .cloned()
        .collect();
    let color = |i: usize| Palette99::pick(i).to_rgba();
    let find = |cell: &str, pair: Pair| results.cells.iter().find(|c| c.cell_name() == cell && c.pair == pair);

    let (top, bottom) = root.split_vertically(PAIRS_PANELS * 52 / 100);
    let (cpus, model) = &results.machine;
    let caption = format!("rpc vs raw tonic: {cpus} CPUs, {model}");

    // Throughput relative to tonic->tonic.
    let n = cells.len().max(1) as f64;
    let mut ymax: f64 = 1.2;
    for cell in &cells {
        if let Some(base) = find(cell, Pair::BASELINE) {
            for &p in &pairs {
                if let Some(c) = find(cell, p)
                    && base.rate.median > 0.0
                {
                    ymax = ymax.max(c.rate.max / base.rate.median * 1.05);
                }
            }
        }
    }
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!("{caption}: throughput / tonic->tonic (median of rounds, bar = min-max)"),
            ("sans-serif", 18),
        )
        .margin(12)
        .margin_right(170)
        .x_label_area_size(120)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n, 0f64..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("ratio")
        .draw()
        .map_err(err)?;
    let k = pairs.len() as f64 + 1.0;
    for (ci, cell) in cells.iter().enumerate() {
        let base = find(cell, Pair::BASELINE).map(|b| b.rate.median).unwrap_or(0.0);
        for (pi, &p) in pairs.iter().enumerate() {
            let Some(c) = find(cell, p) else { continue };
            if base <= 0.0 {
                continue;
            }
            let x0 = ci as f64 + (pi as f64 + 0.5) / k;
            let x1 = x0 + 1.0 / k;
            let style = color(pi).filled();
            chart
                .draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, c.rate.median / base)], style)))
                .map_err(err)?;
            let xm = (x0 + x1) / 2.0;
            let range = [(xm, c.rate.min / base), (xm, c.rate.max / base)];
            chart
                .draw_series(std::iter::once(PathElement::new(range.to_vec(), BLACK.stroke_width(1))))
                .map_err(err)?;
        }
    }
    let limits = [
        (1.0, "1.00", BLACK.stroke_width(1)),
        (0.97, "0.97 aio", RED.stroke_width(1)),
        (0.85, "0.85 sync unary", BLUE.stroke_width(1)),
    ];
    for (limit, _, style) in limits {
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(0.0, limit), (n, limit)], style)))
            .map_err(err)?;
    }
    // The legend goes in the right margin, drawn on the whole area: plotters' own series
    // labels are clipped to the plotting area, which left them without swatches there.
    let legend_font = ("sans-serif", 12).into_font().color(&BLACK);
    let x = w as i32 - 165;
    let mut y = 40;
    for (_, label, style) in limits {
        top.draw(&PathElement::new(vec![(x, y + 6), (x + 16, y + 6)], style)).map_err(err)?;
        top.draw(&Text::new(label.to_string(), (x + 22, y), legend_font.clone()))
            .map_err(err)?;
        y += 16;
    }
    for (pi, &p) in pairs.iter().enumerate() {
        top.draw(&Rectangle::new([(x, y + 1), (x + 16, y + 11)], color(pi).filled()))
            .map_err(err)?;
        top.draw(&Text::new(p.label(), (x + 22, y), legend_font.clone())).map_err(err)?;
        y += 16;
    }
    let label_font = ("sans-serif", 12).into_font().transform(FontTransform::Rotate90).color(&BLACK);
    for (ci, cell) in cells.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(ci as f64 + 0.5, 0.0));
        root.draw(&Text::new(cell.clone(), (x - 6, y + 6), label_font.clone()))
            .map_err(err)?;
    }

    // Unary latency (log scale), p50 bars and p99 ticks.
    let mut lmax: f64 = 10.0;
    for c in results.cells.iter().filter(|c| c.spec.kind == Kind::Unary) {
        lmax = lmax.max(c.p99.median * 1.5);
    }
    let m = unary.len().max(1) as f64;
    let mut lat = ChartBuilder::on(&bottom)
        .caption(
            "unary latency per call, µs (log): bar = p50, black tick = p99 (median of rounds)",
            ("sans-serif", 18),
        )
        .margin(12)
        .margin_right(170)
        .x_label_area_size(120)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..m, (1f64..lmax).log_scale())
        .map_err(err)?;
    lat.configure_mesh().disable_x_mesh().x_labels(0).y_desc("µs").draw().map_err(err)?;
    for (ci, cell) in unary.iter().enumerate() {
        for (pi, &p) in pairs.iter().enumerate() {
            let Some(c) = find(cell, p) else { continue };
            let x0 = ci as f64 + (pi as f64 + 0.5) / k;
            let x1 = x0 + 1.0 / k;
            let style = color(pi).filled();
            lat.draw_series(std::iter::once(Rectangle::new([(x0, 1.0), (x1, c.p50.median.max(1.0))], style)))
                .map_err(err)?;
            let tick = vec![(x0, c.p99.median.max(1.0)), (x1, c.p99.median.max(1.0))];
            lat.draw_series(std::iter::once(PathElement::new(tick, BLACK.stroke_width(2))))
                .map_err(err)?;
        }
    }
    for (ci, cell) in unary.iter().enumerate() {
        let (x, y) = lat.backend_coord(&(ci as f64 + 0.5, 1.0));
        root.draw(&Text::new(cell.clone(), (x - 6, y + 6), label_font.clone()))
            .map_err(err)?;
    }
    Ok(())
}

/// Height of the h2load panel.
const H2_PANEL: u32 = 420;

/// h2load's requests per second per server (median bar, min-max line) per h2load cell,
/// in thousands, with each bar's ratio to tonic written above it.
fn h2load_panel<DB: DrawingBackend>(area: &DrawingArea<DB, plotters::coord::Shift>, cells: &[H2Cell], w: u32) -> Result<(), String>
where
    DB::ErrorType: 'static,
{
    let mut loads: Vec<H2Load> = cells.iter().map(H2Cell::load).collect();
    loads.dedup();
    let mut servers: Vec<H2Server> = cells.iter().map(|c| c.server).collect();
    servers.sort();
    servers.dedup();
    let ymax = cells.iter().map(|c| c.rate.max / 1e3).fold(1.0, f64::max) * 1.15;
    let n = loads.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            "h2load, unary 0B: k requests/s per server (median, line = min-max, label = x tonic)",
            ("sans-serif", 18),
        )
        .margin(12)
        .margin_right(170)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(0f64..n, 0f64..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc("k req/s")
        .draw()
        .map_err(err)?;
    let k = servers.len() as f64 + 1.0;
    let small = ("sans-serif", 11)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    for (li, load) in loads.iter().enumerate() {
        let rate = |s: H2Server| cells.iter().find(|c| c.load() == *load && c.server == s);
        let tonic = rate(H2Server::Own(Side::Tonic)).map(|c| c.rate.median).unwrap_or(0.0);
        for (si, &server) in servers.iter().enumerate() {
            let Some(c) = rate(server) else { continue };
            let x0 = li as f64 + (si as f64 + 0.5) / k;
            let x1 = x0 + 1.0 / k;
            let median = c.rate.median / 1e3;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, median)],
                    server_color(server).filled(),
                )))
                .map_err(err)?;
            let xm = (x0 + x1) / 2.0;
            let range = vec![(xm, c.rate.min / 1e3), (xm, c.rate.max / 1e3)];
            chart
                .draw_series(std::iter::once(PathElement::new(range, BLACK.stroke_width(1))))
                .map_err(err)?;
            if tonic > 0.0 {
                let label = format!("{:.2}", c.rate.median / tonic);
                let top = c.rate.max.max(c.rate.median) / 1e3;
                chart
                    .draw_series(std::iter::once(Text::new(label, (xm, top), small.clone())))
                    .map_err(err)?;
            }
        }
        // backend_coord is absolute; the area draws relative to its own corner.
        let (x, y) = chart.backend_coord(&(li as f64 + 0.5, 0.0));
        let (bx, by) = area.get_base_pixel();
        let font = ("sans-serif", 13).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
        area.draw(&Text::new(load.to_string(), (x - bx, y - by + 8), font)).map_err(err)?;
    }
    let legend_font = ("sans-serif", 12).into_font().color(&BLACK);
    let (x, mut y) = (w as i32 - 165, 40);
    for &server in &servers {
        area.draw(&Rectangle::new([(x, y + 1), (x + 16, y + 11)], server_color(server).filled()))
            .map_err(err)?;
        area.draw(&Text::new(format!("{server} server"), (x + 22, y), legend_font.clone()))
            .map_err(err)?;
        y += 16;
    }
    Ok(())
}

/// One colour per server, whichever servers ran.
fn server_color(server: H2Server) -> RGBColor {
    match server {
        H2Server::Own(Side::Tonic) => RGBColor(31, 119, 180),
        H2Server::Own(Side::Aio) => RGBColor(255, 127, 14),
        H2Server::Own(Side::Sync) => RGBColor(44, 160, 44),
        H2Server::GrpcGo => RGBColor(0, 173, 216),
    }
}
