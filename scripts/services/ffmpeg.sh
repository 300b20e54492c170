#!/usr/bin/env bash
# ffmpeg and ffprobe from Debian, checked by encoding a 1 s lavfi clip.
SERVICE=ffmpeg; source "$(dirname "$0")/lib.sh"
apt_install ffmpeg
out="$RUN/ffmpeg-check.mp4"
ffmpeg -hide_banner -nostdin -loglevel error -y -f lavfi -i "testsrc2=size=160x120:rate=10:duration=1" \
  -c:v libx264 -pix_fmt yuv420p "$out" || die "ffmpeg cannot encode with libx264"
[ "$(ffprobe -v error -select_streams v:0 -show_entries stream=codec_name -of csv=p=0 "$out")" = h264 ] \
  || die "ffprobe does not see the h264 stream"
log "ready: $(ffmpeg -hide_banner -version | awk 'NR==1{print $1, $2, $3}')"
