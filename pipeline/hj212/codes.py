"""HJ 212-2017 code tables as data: command codes (table 9), CP suffixes and time fields (table 4,
§6.3.3), factor codes mapped to envmon's value keys (appendix B; HJ 524/525-2009) and the
HJ/T 212-2005 codes they replaced. See ../shared/reference/hj212_2017.md §2.3, §2.6 and §4."""

from __future__ import annotations

from enum import StrEnum

from pipeline.registry import StationKind


class Answer(StrEnum):
    """What the platform sends back to a valid frame whose Flag asks for an answer (§5.2)."""

    DATA = "9014"  # uploads
    NOTIFICATION = "9013"  # notifications from the field unit
    NONE = ""  # requests meant for the field unit, and responses


# CN -> (kind: a short name of what the frame is, the platform's answer when Flag bit A = 1).
# 9014 goes to the uploads of §5.1 only (2011 2021 2031 2041 2051 2061 2081 3015 3019 3020);
# the field unit's answers inside a platform request (1011, 1061, 1063, 3017, 3018) get none.
COMMANDS: dict[str, tuple[str, Answer]] = {
    "1000": ("set_timeout", Answer.NONE),
    "1011": ("field_time", Answer.NONE),
    "1012": ("set_field_time", Answer.NONE),
    "1013": ("time_calibration", Answer.NOTIFICATION),
    "1061": ("rtd_interval", Answer.NONE),
    "1062": ("set_rtd_interval", Answer.NONE),
    "1063": ("min_interval", Answer.NONE),
    "1064": ("set_min_interval", Answer.NONE),
    "1072": ("set_password", Answer.NONE),
    "2011": ("realtime", Answer.DATA),
    "2012": ("stop_realtime", Answer.NONE),
    "2021": ("run_status", Answer.DATA),
    "2022": ("stop_run_status", Answer.NONE),
    "2031": ("daily", Answer.DATA),
    "2041": ("daily_runtime", Answer.DATA),
    "2051": ("minute", Answer.DATA),
    "2061": ("hourly", Answer.DATA),
    "2081": ("restart", Answer.DATA),
    "3011": ("calibrate", Answer.NONE),
    "3012": ("sample_now", Answer.NONE),
    "3013": ("clean", Answer.NONE),
    "3014": ("comparison_sample", Answer.NONE),
    "3015": ("sample_retention", Answer.DATA),
    "3016": ("set_sampling_period", Answer.NONE),
    "3017": ("sampling_period", Answer.NONE),
    "3018": ("sample_output_time", Answer.NONE),
    "3019": ("instrument_id", Answer.DATA),
    "3020": ("field_info", Answer.DATA),
    "3021": ("set_field_info", Answer.NONE),
    "9011": ("request_answer", Answer.NONE),
    "9012": ("execution_result", Answer.NONE),
    "9013": ("notification_answer", Answer.NONE),
    "9014": ("data_answer", Answer.NONE),
}

# data commands whose CP must carry DataTime (envmon rule, §2.6)
NEEDS_DATATIME = frozenset({"2011", "2021", "2031", "2041", "2051", "2061", "2081"})

# CN -> (suffix carrying the reading's value, averaging interval in s; None: from the device)
READING_COMMANDS: dict[str, tuple[str, int | None]] = {
    "2011": ("Rtd", None),  # real-time values become minute readings (device rtd_interval_s)
    "2051": ("Avg", None),  # minute data (device minute_interval_s)
    "2061": ("Avg", 3600),
    "2031": ("Avg", 86_400),
}

NUMERIC_SUFFIXES = frozenset(
    {"Rtd", "Min", "Avg", "Max", "Cou", "ZsRtd", "ZsMin", "ZsAvg", "ZsMax"}
    | {"Data", "DayData", "NightData", "RS", "RT"}
)
TIME_SUFFIXES = frozenset({"SampleTime"})
TIME_FIELDS = frozenset({"DataTime", "SystemTime", "RestartTime", "BeginTime", "EndTime"})

AIR_FACTORS: dict[str, str] = {
    "a34004": "pm25",
    "a34002": "pm10",
    "a21026": "so2",
    "a21004": "no2",
    "a21005": "co",
    "a05024": "o3",  # [unverified] against HJ 524-2009; what loggers send
}
WATER_FACTORS: dict[str, str] = {
    "w01001": "ph",
    "w01010": "temp",
    "w01009": "do",
    "w01014": "cond",
    "w01003": "turb",  # [unverified] HJ 525-2009 convention, not in HJ 212-2017 table B.1
    "w01019": "codmn",
    "w01018": "cod",
    "w01017": "bod5",
    "w21003": "nh3n",
    "w21011": "tp",
    "w21001": "tn",
}
FACTORS: dict[StationKind, dict[str, str]] = {
    StationKind.AIR: AIR_FACTORS,
    StationKind.WATER: WATER_FACTORS,
}

# HJ/T 212-2005 code -> HJ 212-2017 code (appendix B's "原编码" column, §4.3)
CODES_2005: dict[str, str] = {
    "001": "w01001",
    "010": "w01017",
    "011": "w01018",
    "003": "w01012",
    "015": "w01020",
    "060": "w21003",
    "065": "w21001",
    "101": "w21011",
    "080": "w22001",
    "110": "w23002",
    "550": "w02003",
    "B01": "w00000",
    "02": "a21026",
    "03": "a21002",
    "04": "a21005",
    "01": "a34013",
    "B02": "a00000",
    "S01": "a19001",
    "S02": "a01011",
    "S03": "a01012",
    "S04": "a01017",
    "S05": "a01014",
    "S06": "a01015",
    "S07": "a01016",
    "S08": "a01013",
}

# data flags of HJ 212-2017 table 8; others are kept as sent and count as unusable (§3)
DATA_FLAGS = frozenset("NFMSDCTB")
