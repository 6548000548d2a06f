from pydantic_settings import SettingsConfigDict

from brightline.platform.settings import PersonalDataSettings


class DispatchSettings(PersonalDataSettings):
    """Dispatch. Own knobs carry the DISPATCH_ prefix."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", populate_by_name=True, extra="ignore")

    service_name: str = "dispatch"
    database_name: str = "brightline_dispatch"

    # The area code -> repair unit table is read at most this often for routing new orders: a
    # remap on another replica routes from at most this much later (a newly mapped area code,
    # or an import through the same process, at once).
    service_area_max_age_seconds: float = 30.0
    # A crew that has not accepted an offered order within this time loses it to another crew.
    acceptance_timeout_seconds: float = 300.0
    # How often the background task looks for overdue acceptances and orders waiting for a crew.
    scan_interval_seconds: float = 5.0
    # Outage clustering for reports without grid topology: same fault if this close, this recent.
    outage_radius_m: float = 500.0
    outage_window_seconds: float = 3600.0
    # Homes reporting their own outage (scope own_home) form an incident only when this many
    # distinct meters under one transformer are dark at once; one household never does.
    outage_min_meters: int = 3
    # At most this many meters of the faulty equipment are announced for repeat-call linking.
    outage_meter_list_max: int = 20000
    # Photos attached when resolving: each at most this big, at most this many per request.
    max_photo_bytes: int = 2 * 1024 * 1024
    max_photos_per_request: int = 6
    # The resolution step carries the photos (base64), a grid topology import a whole city's
    # meters (100,000 meters are about 9 MB of JSON), a service-area import up to 10,000 areas
    # (1.2 MB as usually named, about 14 MB at the longest names \u-escaped): their own limits.
    body_limits: dict[str, int] = {
        r"^/mobile/orders/[^/]+/resolution$": 24 * 1024 * 1024,
        r"^/topology$": 64 * 1024 * 1024,
        r"^/service-areas$": 16 * 1024 * 1024,
    }
    # A device clock may run ahead of ours by this much; further in the future is refused.
    device_clock_skew_seconds: float = 300.0
    # A phone offline longer than this cannot replay its steps; older step times are refused.
    device_offline_window_seconds: float = 24 * 3600.0
