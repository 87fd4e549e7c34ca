import time
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

def test_explore(browser, airflow_api):
    b = browser
    b.get(airflow_api.url + "/")
    WebDriverWait(b, 20).until(lambda d: d.find_elements(By.NAME, "username"))
    print("login url", b.current_url)
    b.save_screenshot("/tmp/uiexp/login.png")
    b.find_element(By.NAME, "username").send_keys("admin")
    b.find_element(By.NAME, "password").send_keys("admin")
    b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(b, 20).until(lambda d: "/auth/login" not in d.current_url)
    time.sleep(3)
    print("after", b.current_url, b.get_cookies())
    b.save_screenshot("/tmp/uiexp/home.png")
    open("/tmp/uiexp/home.html","w").write(b.page_source)
