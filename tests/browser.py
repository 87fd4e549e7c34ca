"""Headless Debian Chromium driven by selenium, as a user of the Airflow UI: shared by the UI tests."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 30


@contextmanager
def chromium_driver():
    """A Chromium with a fresh profile and a downloads folder (``driver.downloads``)."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail(
            "Debian's chromium and chromium-driver are not installed "
            "(apt-get install chromium chromium-driver; scripts/bootstrap.sh test does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = Path(tempfile.mkdtemp(prefix="chromium-ui-"))
    downloads = profile / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1440,1000",
        f"--user-data-dir={profile / 'profile'}",
    ):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP refusals are console errors
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def log_in(driver, base_url: str, username: str, password: str) -> None:
    """Through the SimpleAuthManager login page, as a user does; the UI then holds the ``_token`` cookie."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/")
    WebDriverWait(driver, WAIT).until(EC.presence_of_element_located((By.NAME, "username")))
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, WAIT).until(lambda d: d.get_cookie("_token") and "/auth/login" not in d.current_url)


def param_input(driver, param: str):
    from selenium.webdriver.common.by import By

    by_name = driver.find_elements(By.NAME, f"element_{param}")
    if by_name and by_name[0].get_attribute("type") != "hidden":
        return by_name[0]
    # Chakra's number input has no name; its step buttons point at it
    stepper = driver.find_element(By.ID, f"number-input:element_{param}:inc")
    return driver.find_element(By.ID, stepper.get_attribute("aria-controls"))


def trigger_from_form(
    driver, base_url: str, dag_id: str, param: str, value, run_id: str, artifacts: Path
) -> None:
    """Open the DAG's trigger form, change one Param, name the run, trigger; screenshots in ``artifacts``."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{base_url}/dags/{dag_id}")
    WebDriverWait(driver, WAIT).until(
        EC.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid=trigger-dag-button]"))
    ).click()
    submit = WebDriverWait(driver, WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]"))
    )
    field = param_input(driver, param)
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(str(value), Keys.TAB)
    driver.find_element(By.XPATH, "//button[contains(., 'Advanced Options')]").click()
    WebDriverWait(driver, WAIT).until(EC.visibility_of_element_located((By.NAME, "dagRunId"))).send_keys(
        run_id
    )
    try:
        WebDriverWait(driver, 5).until(lambda _: submit.is_enabled())
    except TimeoutException:
        invalid = [
            e.get_attribute("name")
            for e in driver.find_elements(By.CSS_SELECTOR, "input[required]")
            if not e.get_attribute("value")
        ]
        driver.save_screenshot(str(artifacts / f"trigger-{dag_id}-refused.png"))
        pytest.fail(
            f"the trigger form of {dag_id} cannot be submitted with its defaults: required fields "
            f"{invalid} are empty (the form sends an empty text field as null, so a Param that may "
            "be empty needs type=['null', 'string'])"
        )
    driver.save_screenshot(str(artifacts / f"trigger-{dag_id}-form.png"))
    submit.click()
    WebDriverWait(driver, WAIT).until(
        EC.invisibility_of_element_located((By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]"))
    )
