from streaming.ingest.playlists import playlist_entries, rolling_view

HEADER = "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n"


def segment(seq: int) -> str:
    return f"#EXTINF:2.000000,\n#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:{2 * seq:02d}.000+0000\nseg_{seq:06d}.ts\n"


def test_a_live_event_playlist_is_served_as_a_sliding_window():
    live = HEADER + "".join(segment(seq) for seq in range(10))

    view = rolling_view(live, keep=3)

    assert "#EXT-X-MEDIA-SEQUENCE:7" in view and "PLAYLIST-TYPE" not in view
    assert [entry.seq for entry in playlist_entries(view)] == [7, 8, 9]


def test_a_finished_playlist_is_served_whole_for_replay():
    ended = HEADER + "".join(segment(seq) for seq in range(10)) + "#EXT-X-ENDLIST\n"

    assert rolling_view(ended, keep=3) == ended
