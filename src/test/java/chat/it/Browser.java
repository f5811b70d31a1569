package chat.it;

import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;

/** One headless Chromium (Debian's, through its chromedriver) with its own profile, looking at the chat page. */
final class Browser implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String CHROMIUM = System.getProperty("chat.chromium", "/usr/bin/chromium");
    private static final String CHROMEDRIVER = System.getProperty("chat.chromedriver", "/usr/bin/chromedriver");

    private final ChromeDriver driver;
    private final String name;

    /** A delivered message as the page shows it. */
    record Shown(long offset, String text) {
    }

    /** A room of the page's room list: its name, the unread count it shows (0 when none) and whether it is open. */
    record Room(String name, int unread, boolean open) {
    }

    private Browser(ChromeDriver driver, String name) {
        this.driver = driver;
        this.name = name;
    }

    static Browser open(String name, Path profile) throws IOException {
        for (String program : List.of(CHROMIUM, CHROMEDRIVER)) {
            if (!new File(program).canExecute()) {
                throw new IllegalStateException(program + " is missing: install chromium and chromium-driver"
                        + " (bash .ci/run does)");
            }
        }
        Files.createDirectories(profile);
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=420,760", "--user-data-dir=" + profile.toAbsolutePath());
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER))
                .usingAnyFreePort()
                .build();
        return new Browser(new ChromeDriver(service, options), name);
    }

    /** Opens the page and waits until it is live. */
    void load(String url) {
        navigate(url);
        awaitState("live");
    }

    void navigate(String url) {
        driver.get(url);
    }

    void refresh() {
        driver.navigate().refresh();
    }

    void type(String text) {
        var input = driver.findElement(By.id("input"));
        input.sendKeys(text);
        input.sendKeys(Keys.ENTER);
    }

    /** The room list and the fields beside it are behind the menu on a phone's window. */
    private void openMenuOnANarrowWindow() {
        if (driver.findElement(By.id("menu")).isDisplayed()) {
            driver.findElement(By.id("menu")).click();
        }
    }

    /** Opens a room the way a user does: from the room list, behind the menu on a narrow window. */
    void openRoom(String name) {
        openMenuOnANarrowWindow();
        driver.findElement(By.cssSelector("#rooms li[data-room='" + name + "'] a")).click();
    }

    /** Joins a room with the page's join field. */
    void joinRoom(String name) {
        openMenuOnANarrowWindow();
        var field = driver.findElement(By.id("join-room"));
        field.sendKeys(name);
        field.sendKeys(Keys.ENTER);
    }

    /** Chooses the name the page connects under, with its name field. */
    void chooseName(String name) {
        openMenuOnANarrowWindow();
        var field = driver.findElement(By.id("name"));
        field.clear();
        field.sendKeys(name);
        field.sendKeys(Keys.ENTER);
    }

    /** Each delivered message's byline as shown: its author, " ✓" when verified, and whether it is marked as mine. */
    @SuppressWarnings("unchecked")
    List<String> bylines() {
        return (List<String>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#messages li[data-offset]'), li =>"
                        + " li.querySelector('.author').textContent + (li.querySelector('.verified') ? ' \u2713' : '')"
                        + " + (li.classList.contains('mine') ? ' (mine)' : '') + (li.querySelector('time') ? ' at' : ''));");
    }

    /** Signs in on the chat's sign-in page, which the browser is showing, and waits until the page it leads to loads. */
    void signIn(String user, String password) {
        driver.findElement(By.id("username")).sendKeys(user);
        var field = driver.findElement(By.id("password"));
        field.sendKeys(password);
        field.sendKeys(Keys.ENTER);
        new WebDriverWait(driver, TIMEOUT, Duration.ofMillis(50)).until(ExpectedConditions.stalenessOf(field));
    }

    /** Whether the browser shows the chat's sign-in form. */
    boolean showsSignIn() {
        return !driver.findElements(By.cssSelector("form[action='j_security_check']")).isEmpty();
    }

    /** Types into the message field without sending, as a user who is still writing. */
    void typeWithoutSending(String text) {
        driver.findElement(By.id("input")).sendKeys(text);
    }

    /** The open room's people as listed beside the messages, in the order shown. */
    @SuppressWarnings("unchecked")
    List<String> online() {
        return (List<String>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#online li'), li => li.textContent);");
    }

    /** The header's count of the open room's people, and the typing line under the messages. */
    String onlineCount() {
        return driver.findElement(By.id("online-count")).getAttribute("textContent");
    }

    String typingLine() {
        return driver.findElement(By.id("typing")).getAttribute("textContent");
    }

    @SuppressWarnings("unchecked")
    List<Room> rooms() {
        List<List<Object>> rows = (List<List<Object>>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#rooms li'), li => [li.dataset.room,"
                        + " Number(li.querySelector('.unread').textContent || 0) * !li.querySelector('.unread').hidden,"
                        + " li.querySelector('a').getAttribute('aria-current') === 'page']);");
        return rows.stream()
                .map(row -> new Room((String) row.get(0), ((Number) row.get(1)).intValue(), (Boolean) row.get(2)))
                .toList();
    }

    String openRoomTitle() {
        return (String) driver.executeScript("return document.getElementById('room-title').textContent;");
    }

    /** A desktop's window instead of a phone's: the room list beside the messages instead of behind a menu. */
    void widen() {
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(1100, 760));
    }

    /** Scrolls the message list to its top, as a user reading back does. */
    void scrollToTop() {
        driver.executeScript("window.scrollTo(0, 0);");
    }

    String state() {
        return (String) driver.executeScript("return document.getElementById('state').textContent;");
    }

    void awaitState(String state) {
        await(browser -> state.equals(browser.state()), "state " + state);
    }

    @SuppressWarnings("unchecked")
    List<Shown> shown() {
        List<List<Object>> rows = (List<List<Object>>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#messages li[data-offset]'),"
                        + " li => [Number(li.dataset.offset), li.querySelector('.text').textContent]);");
        return rows.stream().map(row -> new Shown(((Number) row.get(0)).longValue(), (String) row.get(1))).toList();
    }

    /** How many delivered messages with exactly this text the page shows. */
    long timesShown(String text) {
        return shown().stream().filter(shown -> shown.text().equals(text)).count();
    }

    /** {@code text} and a random suffix: a message no other test sends. */
    static String unique(String text) {
        return text + " " + UUID.randomUUID().toString().substring(0, 8);
    }

    /** Read in one script, so that an ack arriving meanwhile cannot leave a stale element behind. */
    @SuppressWarnings("unchecked")
    List<String> pending() {
        return (List<String>) driver.executeScript(
                "return Array.from(document.querySelectorAll('#messages li.pending'), li => li.textContent);");
    }

    /** How many elements inside the message list match a CSS selector (e.g. markup that should have stayed text). */
    long countInList(String selector) {
        return driver.findElements(By.cssSelector("#messages " + selector)).size();
    }

    void await(Predicate<Browser> condition, String what) {
        try {
            new WebDriverWait(driver, TIMEOUT, Duration.ofMillis(50)).until(d -> condition.test(this));
        } catch (org.openqa.selenium.TimeoutException e) {
            List<Shown> shown = shown();
            String shownSummary = shown.size() <= 10 ? shown.toString()
                    : shown.subList(0, 5) + " ... " + shown.subList(shown.size() - 5, shown.size());
            throw new AssertionError(name + ": no " + what + " within " + TIMEOUT + "; state " + state() + ", "
                    + shown.size() + " shown " + shownSummary + ", pending " + pending(), e);
        }
    }

    Object script(String javascript) {
        return ((JavascriptExecutor) driver).executeScript(javascript);
    }

    void screenshot(Path directory, String state) throws IOException {
        Files.createDirectories(directory);
        File shot = driver.getScreenshotAs(OutputType.FILE);
        Files.copy(shot.toPath(), directory.resolve(name + "-" + state + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        driver.quit();
    }
}
