// The athlete's video beside the avatar: live over WebRTC (recvonly, relayed by the server),
// and in replay the recorded file, kept on the pose timeline.
import { $, api, sessionId } from "./api.js";

const RETRY_MS = 3000; // no athlete video yet, or the connection dropped: ask again
const MAX_DRIFT_S = 0.25; // replay: re-seek the video when it is further than this off the poses

function showVideo(on, note = "") {
  $("video-pane").hidden = !on && !note;
  $("video").hidden = !on;
  $("video-state").textContent = note;
}

// Live: one recvonly peer connection through POST .../video/offer (coach or admin token).
// 403 (a viewer token) and 429 (enough coaches watch already) are final; anything else retries.
export function startLiveVideo() {
  const path = `/api/sessions/${encodeURIComponent(sessionId)}/video/offer`;
  let pc = null;
  const retry = () => setTimeout(connect, RETRY_MS);
  const connect = async () => {
    if (pc) pc.close();
    pc = new RTCPeerConnection({ iceServers: [] });
    const mine = pc;
    pc.addTransceiver("video", { direction: "recvonly" });
    pc.ontrack = (ev) => {
      $("video").srcObject = new MediaStream([ev.track]);
      showVideo(true);
      ev.track.onended = () => mine === pc && retry();
    };
    pc.onconnectionstatechange = () => {
      if (mine === pc && ["failed", "closed"].includes(pc.connectionState)) retry();
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      // Non-trickle, as the athlete page: wait for our host candidates, then one exchange.
      await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        const t = setTimeout(resolve, 3000);
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && (clearTimeout(t), resolve());
      });
      await pc.setRemoteDescription(await api("POST", path, { sdp: pc.localDescription.sdp, type: "offer" }));
    } catch (e) {
      const status = String(e).slice(0, 3);
      if (status === "403") return showVideo(false); // a viewer token: poses only
      if (status === "429") return showVideo(false, "video: enough coaches watch already");
      showVideo(false, "video: waiting for the athlete…");
      retry();
    }
  };
  connect();
  window.coachVideo = { get pc() { return pc; } };
}

// Replay: the timeline message names the recorded video ({url, origin_us}) when this token may
// see it. The poses lead (the server paces them); the video follows their time, play/pause and
// speed.
export function followReplayVideo(token) {
  const video = $("video");
  let originUs = null;
  let playing = true; // the server starts a replay playing
  return {
    timeline(msg) {
      if (!msg.video) return showVideo(false);
      originUs = msg.video.origin_us;
      video.src = `${msg.video.url}?token=${encodeURIComponent(token)}`;
      showVideo(true);
    },
    frame(tUs) {
      if (originUs === null) return;
      const t = (tUs - originUs) / 1e6;
      if (Math.abs(video.currentTime - t) > MAX_DRIFT_S) video.currentTime = Math.max(t, 0);
      if (playing && video.paused) video.play().catch(() => {});
    },
    state(msg) {
      if (originUs === null) return;
      playing = msg.playing;
      video.playbackRate = msg.speed;
      if (playing) video.play().catch(() => {});
      else video.pause();
    },
    end() {
      playing = false;
      if (originUs !== null) video.pause();
    },
  };
}
