//! Money as integer minor units with an ISO 4217 currency: exact sums, never floating-point drift.

/// Largest amount accepted anywhere (10 million in major units of a two-digit currency).
pub const MAX_MINOR: i64 = 1_000_000_000;

/// Checks an ISO 4217 code's shape and upper-cases it.
pub fn check_currency(raw: &str) -> Result<String, String> {
    let code = raw.trim().to_ascii_uppercase();
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err("must be a three-letter currency code such as USD".into())
    }
}

/// Digits after the decimal point in the currency's minor unit.
pub fn minor_digits(currency: &str) -> u32 {
    match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    }
}

/// Minor units as a major-unit number, for clients that want dollars (TO2) or spreadsheets.
pub fn to_major(minor: i64, currency: &str) -> f64 {
    minor as f64 / 10f64.powi(minor_digits(currency) as i32)
}

/// A readable amount: "$8.40", "£1.20", "€3.00", else "12.50 CAD".
pub fn format_money(minor: i64, currency: &str) -> String {
    let digits = minor_digits(currency) as usize;
    let divisor = 10i64.pow(digits as u32);
    let (whole, fraction) = (minor / divisor, (minor % divisor).abs());
    let amount = if digits == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{fraction:0digits$}")
    };
    match currency {
        "USD" => format!("${amount}"),
        "GBP" => format!("£{amount}"),
        "EUR" => format!("€{amount}"),
        other => format!("{amount} {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_and_formatting() {
        assert_eq!(check_currency(" usd"), Ok("USD".into()));
        assert!(check_currency("US").is_err());
        assert!(check_currency("U5D").is_err());
        assert_eq!(format_money(840, "USD"), "$8.40");
        assert_eq!(format_money(120, "GBP"), "£1.20");
        assert_eq!(format_money(300, "EUR"), "€3.00");
        assert_eq!(format_money(1250, "CAD"), "12.50 CAD");
        assert_eq!(format_money(500, "JPY"), "500 JPY");
        assert_eq!(format_money(1005, "KWD"), "1.005 KWD");
        assert_eq!(to_major(510, "USD"), 5.1);
    }
}
