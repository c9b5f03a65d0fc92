"""Figures in sandboxed kernels: matplotlib draws with Agg, ipykernel's inline backend sends each
figure as an image/png display, and the runtime's prebuilt font list spares every kernel a font
scan; in kernels started in their own jail and in kernels forked from a template alike."""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator

import pytest

from mlrange.sandbox import KernelPool
from tests.sandbox.support import sandbox_config, short_run_dir

pytestmark = pytest.mark.sandbox

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIGURE = "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()"


@pytest.fixture(
    scope="module",
    params=[
        ("import numpy", False),
        ("import numpy", True),
        ("import numpy, matplotlib.pyplot", True),  # the template imported pyplot (the default)
    ],
    ids=["jailed", "forked", "forked-from-pyplot"],
)
def figure_pool(request: pytest.FixtureRequest) -> Iterator[KernelPool]:
    run_dir = short_run_dir()
    preload, kernel_template = request.param
    config = sandbox_config(run_dir, preload=preload, kernel_template=kernel_template)
    pool = KernelPool(config, size=1, acquire_timeout=90)
    pool.start()
    assert pool.wait_ready(count=1, timeout=90), pool.stats()
    yield pool
    pool.shutdown()
    shutil.rmtree(run_dir, ignore_errors=True)


def pngs_of(outputs: list[dict]) -> list[bytes]:
    return [
        base64.b64decode(o["data"]["image/png"])
        for o in outputs
        if o["type"] == "display" and "image/png" in o["data"]
    ]


def text_of(outputs: list[dict], name: str) -> str:
    return "".join(o["text"] for o in outputs if o["type"] == "stream" and o["name"] == name)


def test_plt_show_comes_back_as_one_png_display(figure_pool: KernelPool) -> None:
    result = figure_pool.execute([FIGURE])

    assert result.status == "ok", result.outputs
    pngs = pngs_of(result.outputs)
    assert len(pngs) == 1
    assert pngs[0].startswith(PNG_SIGNATURE)
    assert "non-interactive" not in text_of(result.outputs, "stderr")


def test_a_figure_left_open_is_shown_at_the_end_of_its_cell(figure_pool: KernelPool) -> None:
    result = figure_pool.execute(
        ["import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.bar([0], [1])"]
    )

    assert result.status == "ok", result.outputs
    assert [o["cell"] for o in result.outputs if o["type"] == "display" and "image/png" in o["data"]] == [0]


def test_matplotlib_uses_the_prebuilt_font_list_without_building_one(figure_pool: KernelPool) -> None:
    font_cache = figure_pool.config.font_cache
    if not any(font_cache.glob("fontlist-*.json")):
        pytest.skip(f"no prebuilt font list in {font_cache} (`make runtime` builds it)")
    code = (
        "import os, matplotlib\nfrom matplotlib import font_manager\n"
        "print(matplotlib.get_backend(), matplotlib.get_cachedir())\n"
        "print(sorted(os.listdir(matplotlib.get_cachedir())), len(font_manager.fontManager.ttflist) > 0)"
    )

    result = figure_pool.execute([code])

    assert result.status == "ok", result.outputs
    backend_line, listing = text_of(result.outputs, "stdout").splitlines()
    assert backend_line == "module://matplotlib_inline.backend_inline /tmp/matplotlib"
    assert listing == f"{sorted(p.name for p in font_cache.glob('fontlist-*.json'))} True"
    assert "building the font cache" not in text_of(result.outputs, "stderr")


def test_pandas_and_pillow_import_and_render(figure_pool: KernelPool) -> None:
    code = (
        "import io, pandas, PIL.Image\n"
        "frame = pandas.DataFrame({'epsilon': [0.0, 0.1], 'accuracy': [0.98, 0.12]})\n"
        "print(frame['accuracy'].idxmin())\n"
        "image = PIL.Image.new('L', (8, 8), 255)\n"
        "buffer = io.BytesIO(); image.save(buffer, format='PNG'); print(buffer.getvalue()[:4])"
    )

    result = figure_pool.execute([code])

    assert result.status == "ok", result.outputs
    assert text_of(result.outputs, "stdout") == "1\nb'\\x89PNG'\n"
