package chat.it;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The browsers a test opens ({@code @RegisterExtension}), each with a profile of its own, closed after the test. */
final class Browsers implements AfterEachCallback {

    private final List<Browser> open = new ArrayList<>();

    Browser open(String name) throws Exception {
        Browser browser = Browser.open(name, PageServer.WORK.resolve("profiles").resolve(name + "-" + UUID.randomUUID()));
        open.add(browser);
        return browser;
    }

    @Override
    public void afterEach(ExtensionContext context) {
        open.forEach(Browser::close);
        open.clear();
    }
}
