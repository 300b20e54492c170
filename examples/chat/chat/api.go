package chat

import (
	"crypto/rand"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Handler returns the HTTP API and the page of this gateway:
//
//	GET  /                       the chat page (index.html, chat.js)
//	POST /login                  {"user","password"} -> {"token","user","device"}; first login creates the account
//	GET  /ws?token=...           the websocket (frames: see ParseFrame and Out)
//	POST /groups                 {"id","name","members"} -> the group (caller is owner and member)
//	GET  /groups                 the caller's groups
//	GET  /groups/{id}            the group, for members
//	POST /groups/{id}/members    {"user"}: add a member (members only)
//	POST /media                  raw image/audio/video body -> {"hash","type","size","url","existed"}
//	GET  /media/{hash}           the stored object
//	GET  /users/{user}/presence  {"online","devices","last_seen"}
//
// Every route but the page, /login and /media/{hash} needs the login token
// (Authorization: Bearer, or ?token=).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /", http.FileServerFS(sub))
	mux.HandleFunc("POST /login", s.login)
	mux.Handle("GET /ws", s.gw)
	mux.HandleFunc("POST /groups", s.authed(s.createGroup))
	mux.HandleFunc("GET /groups", s.authed(s.myGroups))
	mux.HandleFunc("GET /groups/{id}", s.authed(s.getGroup))
	mux.HandleFunc("POST /groups/{id}/members", s.authed(s.addMember))
	mux.HandleFunc("POST /media", s.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
		s.cfg.Media.ServeUpload(w, r)
	}))
	mux.HandleFunc("GET /media/{hash}", s.cfg.Media.ServeMedia)
	mux.HandleFunc("GET /users/{user}/presence", s.authed(s.presence))
	return s.cors(mux)
}

// cors lets the pages of the other gateways (the hosts in
// Gateway.OriginPatterns, which also admits their sockets) call this API,
// so that a page keeps working after it failed over to this gateway.
func (s *Service) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin != "" && s.allowedOrigin(origin) {
			hd := w.Header()
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			hd.Set("Access-Control-Allow-Methods", "GET, POST")
			hd.Add("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Service) allowedOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, p := range s.originPatterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

func (s *Service) authed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := s.cfg.Tokens.Authenticate(r)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "unauthorized", Message: err.Error()})
			return
		}
		h(w, r, id.User)
	}
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("chat: request body: %v: %w", err, ErrInvalid)
	}
	return nil
}

func (s *Service) login(w http.ResponseWriter, r *http.Request) {
	var req struct{ User, Password string }
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.cfg.Directory.Login(r.Context(), req.User, req.Password); err != nil {
		writeError(w, err)
		return
	}
	dev := make([]byte, 6)
	_, _ = rand.Read(dev)
	device := hex.EncodeToString(dev)
	writeJSON(w, http.StatusOK, map[string]string{"token": s.cfg.Tokens.Issue(req.User, device), "user": req.User, "device": device})
}

type groupJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Owner   string   `json:"owner,omitempty"`
	Members []string `json:"members"`
}

func (s *Service) createGroup(w http.ResponseWriter, r *http.Request, user string) {
	var req groupJSON
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	g, err := s.cfg.Directory.CreateGroup(r.Context(), req.ID, req.Name, user, req.Members)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, groupJSON{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members})
}

func (s *Service) myGroups(w http.ResponseWriter, r *http.Request, user string) {
	ids, err := s.cfg.Directory.GroupsOf(r.Context(), user)
	if err != nil {
		writeError(w, err)
		return
	}
	out := []groupJSON{}
	for _, id := range ids {
		g, err := s.cfg.Directory.Group(r.Context(), id)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, groupJSON{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members})
	}
	writeJSON(w, http.StatusOK, map[string]any{"groups": out})
}

func (s *Service) getGroup(w http.ResponseWriter, r *http.Request, user string) {
	g, err := s.cfg.Directory.Group(r.Context(), r.PathValue("id"))
	if err == nil {
		if ok, _ := s.cfg.Directory.IsMember(r.Context(), g.ID, user); !ok {
			err = fmt.Errorf("chat: group %q: %w", g.ID, ErrNotFound) // do not reveal groups to outsiders
		}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, groupJSON{ID: g.ID, Name: g.Name, Owner: g.Owner, Members: g.Members})
}

func (s *Service) addMember(w http.ResponseWriter, r *http.Request, user string) {
	var req struct{ User string }
	if err := decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if err := s.cfg.Directory.AddMember(r.Context(), r.PathValue("id"), user, req.User); err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) presence(w http.ResponseWriter, r *http.Request, _ string) {
	u := r.PathValue("user")
	if ok, err := s.cfg.Directory.UserExists(r.Context(), u); err != nil || !ok {
		writeError(w, errors.Join(err, fmt.Errorf("chat: user %q: %w", u, ErrNotFound)))
		return
	}
	p, err := s.cfg.Registry.Presence(r.Context(), u)
	if err != nil {
		writeError(w, err)
		return
	}
	out := map[string]any{"user": u, "online": p.Online, "devices": p.Devices}
	if !p.LastSeen.IsZero() {
		out["last_seen"] = p.LastSeen.UTC().Format(time.RFC3339)
	}
	writeJSON(w, http.StatusOK, out)
}
