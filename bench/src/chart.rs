//! The headline figures of a run as an SVG chart: one group of bars per scenario, each bar a
//! supervisor's value relative to SentinelZero's (log scale, since peers are up to 1000× off).

use std::fmt::Write;
use std::sync::Mutex;

struct Figure {
    scenario: &'static str,
    supervisor: String,
    value: f64,
    unit: &'static str,
}

static FIGURES: Mutex<Vec<Figure>> = Mutex::new(Vec::new());

/// Remembers one headline value for the chart.
pub fn record(scenario: &'static str, supervisor: &str, value: f64, unit: &'static str) {
    FIGURES.lock().unwrap().push(Figure {
        scenario,
        supervisor: supervisor.to_string(),
        value,
        unit,
    });
}

const COLOURS: &[(&str, &str)] = &[
    ("SentinelZero", "#2f9e44"),
    ("supervisord", "#e8590c"),
    ("PM2", "#1c7ed6"),
    ("horust", "#ae3ec9"),
];

/// The chart of everything recorded so far, or None when nothing was.
pub fn render(title: &str) -> Option<String> {
    let figures = FIGURES.lock().unwrap();
    let mut scenarios: Vec<&'static str> = Vec::new();
    for figure in figures.iter() {
        if !scenarios.contains(&figure.scenario) {
            scenarios.push(figure.scenario);
        }
    }
    if scenarios.is_empty() {
        return None;
    }
    // Each scenario: its title on a line of its own, then a bar per supervisor.
    let (left, row, bar, width) = (250.0, 20.0 * COLOURS.len() as f64 + 36.0, 18.0, 900.0);
    let plot = width - left - 170.0;
    // Ratios from 1/10 to 1000 on a log scale; SentinelZero is at 1.
    let scale = |ratio: f64| ((ratio.max(0.1).log10() + 1.0) / 4.0).clamp(0.0, 1.0) * plot;
    let height = 60.0 + row * scenarios.len() as f64 + 30.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         font-family=\"-apple-system, Helvetica, Arial, sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"16\" y=\"24\" font-size=\"15\" font-weight=\"600\">{title}</text>\n\
         <text x=\"16\" y=\"42\" fill=\"#555\">Each bar: that supervisor's value ÷ SentinelZero's (log scale; shorter is better, 1× = SentinelZero).</text>\n"
    );
    for decade in [0.1, 1.0, 10.0, 100.0, 1000.0] {
        let x = left + scale(decade);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"52\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#777\">{decade}×</text>",
            height - 28.0,
            height - 12.0
        );
    }
    for (i, scenario) in scenarios.iter().enumerate() {
        let top = 60.0 + row * i as f64;
        let _ = writeln!(
            svg,
            "<text x=\"16\" y=\"{:.1}\" font-weight=\"600\">{scenario}</text>",
            top + 14.0
        );
        let ours = figures
            .iter()
            .find(|f| f.scenario == *scenario && f.supervisor == "SentinelZero")
            .map_or(0.0, |f| f.value);
        for (j, (name, colour)) in COLOURS.iter().enumerate() {
            let Some(figure) = figures
                .iter()
                .find(|f| f.scenario == *scenario && f.supervisor == *name)
            else {
                continue;
            };
            let y = top + 22.0 + j as f64 * (bar + 2.0);
            let ratio = if ours > 0.0 { figure.value / ours } else { 1.0 };
            let w = scale(ratio).max(1.0);
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#333\">{name}</text>\
                 <rect x=\"{left}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{colour}\" rx=\"2\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#333\">{} {} ({ratio:.1}×)</text>",
                left - 8.0,
                y + 13.0,
                left + w + 6.0,
                y + 13.0,
                format_value(figure.value),
                figure.unit
            );
        }
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

fn format_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_a_bar_per_recorded_figure() {
        record("Restart latency, median", "SentinelZero", 2.0, "ms");
        record("Restart latency, median", "supervisord", 1000.0, "ms");
        let svg = render("test").unwrap();
        assert_eq!(svg.matches("<rect x=").count(), 2);
        assert!(svg.contains("1000 ms (500.0×)"), "{svg}");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
    }
}
