"""Write the examples' workbooks (项目清单.xlsx, 单位名录.xlsx) from their TOML sources: ``make examples``."""

from pathlib import Path

from shixiang_xl.projects import write_project_list
from shixiang_xl.units import write_directory
from shixiang_xl.workspace import EXAMPLES, load_example

HERE = Path(__file__).resolve().parent

for name in EXAMPLES:
    _, directory, plist = load_example(name)
    write_project_list(HERE / name / "项目清单.xlsx", plist)
    write_directory(HERE / name / "单位名录.xlsx", directory)
    print(f"{name}: {len(plist.projects)} projects, {len(plist.indicators)} indicators, {len(directory.units)} units")
