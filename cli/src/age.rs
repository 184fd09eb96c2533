//! Ages as Kubernetes prints them (apimachinery's `HumanDuration`): `45s`, `5m30s`, `95m`,
//! `3h20m`, `30h`, `2d4h`, `20d`, `2y30d`. The simulator's tables and the history tool's columns
//! print the same column, so they share this one copy.

/// `seconds` (how long ago) in the shortest form `kubectl` would print.
pub fn human_age(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    let minutes = seconds / 60;
    let hours = minutes / 60;
    let days = hours / 24;
    let years = days / 365;
    if seconds < 120 {
        format!("{seconds}s")
    } else if minutes < 10 {
        two_units(minutes, 'm', seconds % 60, 's')
    } else if minutes < 180 {
        format!("{minutes}m")
    } else if hours < 8 {
        two_units(hours, 'h', minutes % 60, 'm')
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        two_units(days, 'd', hours % 24, 'h')
    } else if days < 365 * 2 {
        format!("{days}d")
    } else if years < 8 {
        two_units(years, 'y', days % 365, 'd')
    } else {
        format!("{years}y")
    }
}

/// `5m30s`, or just `5m` when the smaller unit is zero.
fn two_units(large: i64, large_unit: char, small: i64, small_unit: char) -> String {
    if small == 0 {
        format!("{large}{large_unit}")
    } else {
        format!("{large}{large_unit}{small}{small_unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::human_age;

    #[test]
    fn every_step_of_the_kubectl_ladder() {
        let day = 86_400;
        for (seconds, text) in [
            (-2, "<invalid>"),
            (-1, "0s"),
            (0, "0s"),
            (119, "119s"),
            (120, "2m"),
            (330, "5m30s"),
            (599, "9m59s"),
            (600, "10m"),
            (179 * 60, "179m"),
            (3 * 3600, "3h"),
            (3 * 3600 + 300, "3h5m"),
            (8 * 3600, "8h"),
            (47 * 3600, "47h"),
            (48 * 3600, "2d"),
            (77 * 3600, "3d5h"),
            (8 * day, "8d"),
            (729 * day, "729d"),
            (730 * day, "2y"),
            (760 * day, "2y30d"),
            (8 * 365 * day + 30 * day, "8y"),
        ] {
            assert_eq!(human_age(seconds), text, "{seconds} s");
        }
    }
}
