package chat.delivery;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * History pages read from the store lately, so that replays reading the same stretch at about the same time (every
 * client reconnecting after an outage) read and encode each page once. Only full pages are kept: the rows after an
 * offset never change once there are as many as a page holds, whereas a short page ends where the store ended
 * then. Bounded in pages and in characters of frames; the least recently used page leaves first.
 */
final class SharedPages {

    private final int maxPages;
    private final long maxChars;
    /** Page by its room and the offset it starts after, in access order. */
    private final LinkedHashMap<PageStart, List<EncodedMessage>> pages = new LinkedHashMap<>(16, 0.75f, true);
    private long chars;

    SharedPages(int maxPages, long maxChars) {
        this.maxPages = maxPages;
        this.maxChars = maxChars;
    }

    /** @return the full page of {@code size} messages of {@code room} after {@code after}, or null if none is kept */
    synchronized List<EncodedMessage> get(String room, long after, int size) {
        List<EncodedMessage> page = pages.get(new PageStart(room, after));
        return page != null && page.size() == size ? page : null;
    }

    /** Keeps {@code page} if it is full ({@code size} messages); it must not be changed afterwards. */
    synchronized void offer(String room, long after, int size, List<EncodedMessage> page) {
        if (maxPages == 0 || page.size() != size) {
            return;
        }
        long pageChars = chars(page);
        if (pageChars > maxChars) {
            return;
        }
        List<EncodedMessage> replaced = pages.put(new PageStart(room, after), page);
        chars += pageChars - (replaced == null ? 0 : chars(replaced));
        Iterator<Map.Entry<PageStart, List<EncodedMessage>>> oldest = pages.entrySet().iterator();
        while (pages.size() > maxPages || chars > maxChars) {
            chars -= chars(oldest.next().getValue());
            oldest.remove();
        }
    }

    private static long chars(List<EncodedMessage> page) {
        long chars = 0;
        for (EncodedMessage message : page) {
            chars += message.chars();
        }
        return chars;
    }

    private record PageStart(String room, long after) {
    }
}
