//! The practice's local time, for the reply e-mail and the day its daily cap counts in: Germany, Austria and Switzerland (the regions
//! praxis-sms serves) all keep Central European Time with the EU's summer time (Directive
//! 2000/84/EC, which Switzerland follows): UTC+1, and UTC+2 from 01:00 UTC on the last Sunday
//! of March to 01:00 UTC on the last Sunday of October. That rule is these few lines instead of
//! a time zone database in the Lambda binary; the tests check it against the system's database
//! (Europe/Berlin, Europe/Vienna, Europe/Zurich) hour by hour over decades.

use super::Region;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Utc, Weekday};

/// The IANA zone of a practice's region: Vienna for AT, Zurich for CH and LI, Berlin for DE and
/// any other region (a practice elsewhere is not a case the product has).
pub fn zone_of(region: Region) -> &'static str {
    match region.as_str() {
        "AT" => "Europe/Vienna",
        "CH" | "LI" => "Europe/Zurich",
        _ => "Europe/Berlin",
    }
}

/// `at` on the wall clocks of `region` (see [`zone_of`]; the three zones agree since 1981).
pub fn local_time(region: Region, at: DateTime<Utc>) -> NaiveDateTime {
    let _ = zone_of(region);
    let offset = if summer_time(at) { 2 } else { 1 };
    (at + Duration::hours(offset)).naive_utc()
}

/// The practice's calendar day at `at`: what its daily cap counts in.
pub fn local_day(region: Region, at: DateTime<Utc>) -> NaiveDate {
    local_time(region, at).date()
}

/// The next local midnight of `region` after `at`, as a UTC instant: when a new day's cap
/// begins.
pub fn next_local_midnight(region: Region, at: DateTime<Utc>) -> DateTime<Utc> {
    let local = local_time(region, at);
    let next = local.date().succ_opt().unwrap_or(local.date());
    start_of_local_day(region, next)
}

/// The first instant of the practice's calendar day `day`, as a UTC instant (a date filter's
/// lower bound; the next day's start is its upper one).
pub fn start_of_local_day(region: Region, day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    // The offset at midnight is the day's (the switches are at 01:00 UTC, never at midnight):
    // winter's offset gives an instant of that day, whose offset is then the right one.
    let guess = (midnight - Duration::hours(1)).and_utc();
    let offset = local_time(region, guess) - guess.naive_utc();
    (midnight - offset).and_utc()
}

fn summer_time(at: DateTime<Utc>) -> bool {
    let switch = |month| {
        last_sunday(at.year(), month)
            .and_hms_opt(1, 0, 0)
            .map(|t| t.and_utc())
    };
    match (switch(3), switch(10)) {
        (Some(start), Some(end)) => start <= at && at < end,
        _ => false,
    }
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    // Within chrono's range of years there always is a next month.
    let last = next.and_then(|d| d.pred_opt()).unwrap_or_default();
    last - Duration::days(i64::from(last.weekday().num_days_from_sunday()))
}

/// "Dienstag, 17.11.2026, 10:15 Uhr".
pub fn german(t: NaiveDateTime) -> String {
    let day = match t.weekday() {
        Weekday::Mon => "Montag",
        Weekday::Tue => "Dienstag",
        Weekday::Wed => "Mittwoch",
        Weekday::Thu => "Donnerstag",
        Weekday::Fri => "Freitag",
        Weekday::Sat => "Samstag",
        Weekday::Sun => "Sonntag",
    };
    format!("{day}, {}", t.format("%d.%m.%Y, %H:%M Uhr"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .expect("time")
    }

    #[test]
    fn the_day_turns_at_local_midnight() {
        let de = Region::DE;
        // 23:30 UTC in winter is 00:30 the next day in Berlin.
        let late = utc(2026, 11, 17, 23, 30);
        assert_eq!(
            local_day(de, late),
            NaiveDate::from_ymd_opt(2026, 11, 18).expect("day")
        );
        assert_eq!(next_local_midnight(de, late), utc(2026, 11, 18, 23, 0));
        // In summer midnight is 22:00 UTC.
        let summer = utc(2026, 7, 1, 12, 0);
        assert_eq!(next_local_midnight(de, summer), utc(2026, 7, 1, 22, 0));
        // On the night summer time ends (25 October 2026) the next midnight is still UTC+1's.
        assert_eq!(
            next_local_midnight(de, utc(2026, 10, 25, 12, 0)),
            utc(2026, 10, 25, 23, 0)
        );
        // A day's start, on either side of both switches.
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).expect("day");
        assert_eq!(start_of_local_day(de, day(3, 29)), utc(2026, 3, 28, 23, 0));
        assert_eq!(start_of_local_day(de, day(3, 30)), utc(2026, 3, 29, 22, 0));
        assert_eq!(
            start_of_local_day(de, day(10, 25)),
            utc(2026, 10, 24, 22, 0)
        );
        assert_eq!(
            start_of_local_day(de, day(10, 26)),
            utc(2026, 10, 25, 23, 0)
        );
    }

    #[test]
    fn summer_and_winter_in_berlin() {
        let de = Region::DE;
        assert_eq!(
            german(local_time(de, utc(2026, 11, 17, 9, 15))),
            "Dienstag, 17.11.2026, 10:15 Uhr"
        );
        assert_eq!(
            german(local_time(de, utc(2026, 8, 19, 14, 30))),
            "Mittwoch, 19.08.2026, 16:30 Uhr"
        );
        // 2026's switches: 29 March and 25 October, at 01:00 UTC.
        assert_eq!(
            local_time(de, utc(2026, 3, 29, 0, 59))
                .format("%H:%M")
                .to_string(),
            "01:59"
        );
        assert_eq!(
            local_time(de, utc(2026, 3, 29, 1, 0))
                .format("%H:%M")
                .to_string(),
            "03:00"
        );
        assert_eq!(
            local_time(de, utc(2026, 10, 25, 0, 59))
                .format("%H:%M")
                .to_string(),
            "02:59"
        );
        assert_eq!(
            local_time(de, utc(2026, 10, 25, 1, 0))
                .format("%H:%M")
                .to_string(),
            "02:00"
        );
    }

    #[test]
    fn each_region_has_its_zone() {
        let region = |r: &str| Region::parse(r).expect("region");
        assert_eq!(zone_of(region("DE")), "Europe/Berlin");
        assert_eq!(zone_of(region("AT")), "Europe/Vienna");
        assert_eq!(zone_of(region("CH")), "Europe/Zurich");
    }

    /// The rule against the system's time zone database, every hour of 1996–2037 (since 1996 summer time ends in October) and every
    /// minute around each switch, for each region's zone.
    #[test]
    fn the_rule_agrees_with_the_time_zone_database() {
        for r in ["DE", "AT", "CH"] {
            let region = Region::parse(r).expect("region");
            let tz = jiff::tz::TimeZone::get(zone_of(region))
                .unwrap_or_else(|e| panic!("{}: {e} (is tzdata installed?)", zone_of(region)));
            let check = |at: DateTime<Utc>| {
                let ts = jiff::Timestamp::from_second(at.timestamp()).expect("timestamp");
                let want = ts.to_zoned(tz.clone()).datetime();
                let got = local_time(region, at);
                let want = format!("{want}");
                let got = got.format("%Y-%m-%dT%H:%M:%S").to_string();
                assert_eq!(got, want, "{r} at {at}");
            };
            let mut at = utc(1996, 1, 1, 0, 0);
            while at < utc(2038, 1, 1, 0, 0) {
                check(at);
                at += Duration::hours(1);
            }
            for year in 1996..2038 {
                for month in [3, 10] {
                    let switch = last_sunday(year, month)
                        .and_hms_opt(1, 0, 0)
                        .expect("1 am")
                        .and_utc();
                    for m in -90..=90 {
                        check(switch + Duration::minutes(m));
                    }
                }
            }
        }
    }
}
