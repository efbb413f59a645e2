"""The explorer in a real browser: Voilà serves a notebook that shows
`widgets.Explorer`, headless Chromium opens it, a slider is dragged, and the image on the
page changes; on the shipped colour model, the cluster menu and an upload too."""

import contextlib
import io
import shutil
import socket
import subprocess
import sys
import time

import nbformat
import numpy as np
import pytest

NOTEBOOK = """\
import rustgan
from rustgan import widgets

x, _ = rustgan.data.mnist()
gan = rustgan.GAN((1, 28, 28), latent_dim=16, base_channels=8, ema=0.99, seed=0)
gan.fit(x[::5], steps=150, batch_size=64, progress=False)
widgets.Explorer(gan, k=3).view
"""
# Kernel start, 150 training steps and the first render, on a slow CI machine.
PAGE_TIMEOUT = 300


def browser():
    """Paths of Chromium and its driver, or a skip naming what is missing."""
    chromium = next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None
    )
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        pytest.skip("no Chromium or chromedriver on this machine (Debian: apt-get install chromium chromium-driver)")
    for module in ("voila", "selenium"):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install voila selenium)")
    return chromium, driver


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"voila exited with {server.returncode}: {server.stdout.read()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"voila did not listen on port {port} within {timeout} s")


def pixels(element) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(element.screenshot_as_png)).convert("L"), dtype=np.float64)


@contextlib.contextmanager
def explorer_page(tmp_path, code: str):
    """Chromium on the page Voilà serves for a notebook of one cell, `code`."""
    chromium, driver_path = browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    notebook = tmp_path / "explorer.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    port = free_port()
    command = [sys.executable, "-m", "voila", str(notebook), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1"]
    server = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1000"):
        options.add_argument(argument)
    driver = None
    try:
        wait_for_port(port, server)
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        driver.get(f"http://127.0.0.1:{port}/")
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)


def shown_image(driver):
    """The explorer's image element, once rendered."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, PAGE_TIMEOUT)
    image = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".widget-image"))
    wait.until(lambda d: image.size["width"] > 100)
    return image


def drag_first_slider(driver, image) -> None:
    """Drags the first direction's slider and waits for the image to change."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    before = pixels(image)
    handle = driver.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")[0]
    ActionChains(driver).drag_and_drop_by_offset(handle, 120, 0).perform()
    readout = driver.find_elements(By.CSS_SELECTOR, ".widget-slider .widget-readout")[0]
    WebDriverWait(driver, 10).until(lambda d: float(readout.text or 0) != 0)
    started = time.monotonic()
    WebDriverWait(driver, 30).until(lambda d: np.abs(pixels(image) - before).mean() > 2)
    changed = np.abs(pixels(image) - before)
    print(
        f"slider at {readout.text}: the image changed in {time.monotonic() - started:.2f} s, mean |diff| {changed.mean():.1f}"
    )
    assert (changed > 30).mean() > 0.02, "too few pixels changed"


@pytest.mark.slow
def test_a_dragged_slider_changes_the_image_in_chromium(tmp_path):
    with explorer_page(tmp_path, NOTEBOOK) as driver:
        drag_first_slider(driver, shown_image(driver))


# ipywidgets' upload button clicks a file input it never attaches to the page; attached,
# the input takes a path as a user's file chooser would hand it one.
ATTACH_FILE_INPUTS = """
const click = HTMLInputElement.prototype.click;
HTMLInputElement.prototype.click = function () {
  if (this.type !== "file") return click.call(this);
  this.style.display = "block";
  document.body.appendChild(this);
};
"""


@pytest.mark.slow
def test_the_colour_explorer_changes_cluster_and_projects_an_upload_in_chromium(tmp_path):
    import rustgan
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    # A red square the shipped shapes model has never seen.
    square = rustgan.data.shapes(64, size=32, seed=7)
    target = square[0][square[1] == 6][0]  # kind square (1) * 6 + colour red (0)
    upload = tmp_path / "square.png"
    Image.fromarray(((target.permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()).save(upload)
    target_pixels = np.asarray(Image.open(upload), dtype=np.float64)
    code = "import rustgan\nfrom rustgan import widgets\nwidgets.Explorer(rustgan.pretrained('shapes'), k=3).view\n"
    with explorer_page(tmp_path, code) as driver:
        image = shown_image(driver)
        drag_first_slider(driver, image)
        # Another cluster draws another shape or colour.
        before = pixels(image)
        Select(driver.find_element(By.CSS_SELECTOR, ".widget-dropdown select")).select_by_visible_text("3")
        WebDriverWait(driver, 30).until(lambda d: np.abs(pixels(image) - before).mean() > 2)

        def distance_to_target() -> float:
            shown = Image.open(io.BytesIO(image.screenshot_as_png)).convert("RGB").resize((32, 32), Image.BILINEAR)
            return np.abs(np.asarray(shown, dtype=np.float64) - target_pixels).mean()

        far = distance_to_target()
        driver.execute_script(ATTACH_FILE_INPUTS)
        driver.find_element(By.CSS_SELECTOR, ".widget-upload").click()
        driver.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(upload))
        status = driver.find_elements(By.CSS_SELECTOR, ".widget-label")[-1]
        # Projection (a few seconds alone) shares the CPU with the kernel and the browser.
        WebDriverWait(driver, PAGE_TIMEOUT).until(
            lambda d: "rendered" in status.text and distance_to_target() < far / 2
        )
        near = distance_to_target()
        print(f"mean |pixel - uploaded square|: {far:.1f} before the upload, {near:.1f} after its projection")
        assert near < 10, near
