from pathlib import Path

import pytest

from pipeline.registry import Registry, RegistryError, StationKind

OTHER_CITY = """
schema_version: 1
city: {key: testville, name_zh: 测试市, name_en: Testville}
districts:
  - {id: north, name_zh: 北区, name_en: North, lat: 1.0, lon: 2.0}
air_stations:
  - {id: T1, name_zh: 一号站, name_en: "Station, One", district: north, lat: 1.0, lon: 2.0}
rivers:
  - id: r
    name_zh: 河
    name_en: River
    sections:
      - {id: up, name_zh: 上, name_en: Up, district: north, target: II, lat: 1, lon: 2}
      - {id: lake1, name_zh: 湖, name_en: Lake, district: north, target: III, lat: 1, lon: 2,
         lake: true}
"""


def test_bundled_shenzhen_registry() -> None:
    reg = Registry.load()
    assert reg.city.name_en == "Shenzhen"
    assert len(reg.districts) == 10
    assert len(reg.of_kind(StationKind.AIR)) == 15
    assert len(reg.of_kind(StationKind.WATER)) == 7
    s = reg.get("1356A")
    assert s is not None and (s.name_zh, s.district) == ("通心岭子站", "futian")
    gonghe = reg.get("mzh-gonghe")
    assert gonghe is not None and (gonghe.river, gonghe.target, gonghe.section_order) == (
        "maozhou",
        "IV",
        1,
    )
    assert reg.rivers["maozhou"].section_ids == ("mzh-yangyong", "mzh-gonghe")
    assert reg.get("nope") is None


def test_another_city_loads(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(OTHER_CITY, "utf-8")
    reg = Registry.load(path)
    assert set(reg.stations) == {"T1", "up", "lake1"}
    lake = reg.get("lake1")
    assert lake is not None and lake.lake


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                "district: north, lat: 1.0, lon: 2.0}\nrivers",
                "district: south, lat: 1.0, lon: 2.0}\nrivers",
            ),
            "'T1' names unknown district 'south'",
        ),
        (("target: II", "target: VI"), "section 'up' target 'VI'"),
        (("id: up,", "id: T1,"), "duplicate station id 'T1'"),
        (("lat: 1.0, lon: 2.0}\nair", "lat: north, lon: 2.0}\nair"), "$.districts[0].lat"),
    ],
)
def test_bad_registry_names_the_entry(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    assert change[0] in OTHER_CITY
    path = tmp_path / "city.yaml"
    path.write_text(OTHER_CITY.replace(*change), "utf-8")
    with pytest.raises(RegistryError) as err:
        Registry.load(path)
    assert message in str(err.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="No such file"):
        Registry.load(tmp_path / "none.yaml")
